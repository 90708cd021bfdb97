"""A detect-secrets plugin for InstaView API keys (ivkeys), and a filter.

    detect-secrets scan --plugin contrib/detect_secrets_ivkeys.py \
        --filter contrib/detect_secrets_ivkeys.py::is_ivkeys_key_seen_by_another_plugin

A key is 90 characters, sk_<live|test>_<32 base62 id>_<43 base62 secret><6 base62 check>;
the check is CRC32 (IEEE) of everything before it, written in base62 (0-9, A-Z, a-z), most
significant digit first, zero-padded to 6. Only strings whose check is right are reported, so a
Stripe key (same sk_live_ prefix) is not reported as ours; with the filter, one of our keys is
no longer reported by another plugin (detect-secrets' Stripe detector matches our live keys).
"""

import re
import zlib

from detect_secrets.plugins.base import RegexBasedDetector

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY = re.compile(r"(?<![0-9A-Za-z_])(sk_(?:live|test)_[0-9A-Za-z]{32}_[0-9A-Za-z]{43}[0-9A-Za-z]{6})(?![0-9A-Za-z_])")


def check_digits(body):
    """The 6 check characters of a key whose first 84 characters are `body`."""
    n = zlib.crc32(body.encode("ascii")) & 0xFFFFFFFF
    digits = ""
    for _ in range(6):
        n, r = divmod(n, 62)
        digits = BASE62[r] + digits
    return digits


def is_ivkeys_key(s):
    """Whether `s` is a whole key with a valid check."""
    return len(s) == 90 and KEY.fullmatch(s) is not None and check_digits(s[:84]) == s[84:]


class IVKeysDetector(RegexBasedDetector):
    """InstaView API key (ivkeys), checksum verified."""

    secret_type = "InstaView API Key"
    denylist = [KEY]

    def analyze_string(self, string):
        for match in KEY.findall(string):
            if is_ivkeys_key(match):
                yield match


def is_ivkeys_key_seen_by_another_plugin(secret, plugin, line):
    """A detect-secrets filter: true (leave it out) when a plugin other than ours reports a
    secret that lies inside one of our keys with a valid check on that line."""
    if getattr(plugin, "secret_type", None) == IVKeysDetector.secret_type:
        return False
    return any(secret in key for key in KEY.findall(line) if is_ivkeys_key(key))
