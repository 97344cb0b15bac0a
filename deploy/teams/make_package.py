"""Build the Teams app package (manifest.json + icons, zipped) for upload to Teams.

    python deploy/teams/make_package.py --bot-id <Microsoft App ID> --domain assistent.example.nl
    python deploy/teams/make_package.py --bot-id <id> --domain <host> --out aimi-teams.zip

The bot id is the Microsoft App ID of the Azure Bot (ASSISTANT_TEAMS__APP_ID); the domain is
the public host of `assistant serve`. Icons are generated (192x192 colour, 32x32 outline),
so the package builds with the standard library alone.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACCENT = (0x1F, 0x4E, 0x79)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def png(size: int, pixel) -> bytes:
    """An RGBA PNG of size x size, pixel(x, y) -> (r, g, b, a)."""
    rows = b"".join(b"\x00" + b"".join(bytes(pixel(x, y)) for x in range(size)) for y in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def ring(size: int, x: int, y: int) -> bool:
    """A speech-bubble-like ring: the outline Teams shows in its app bar."""
    c = (size - 1) / 2
    d = ((x - c) ** 2 + (y - c) ** 2) ** 0.5
    return size * 0.28 <= d <= size * 0.42


def build(bot_id: str, domain: str, out: Path) -> Path:
    if not GUID.match(bot_id):
        raise SystemExit(f"--bot-id must be the bot's Microsoft App ID (a GUID), not {bot_id!r}.")
    manifest = json.loads((HERE / "manifest.json").read_text())
    manifest["bots"][0]["botId"] = bot_id
    manifest["validDomains"] = [domain]
    for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl"):
        manifest["developer"][key] = manifest["developer"][key].replace("assistent.example.nl", domain)
    color = png(192, lambda x, y: (255, 255, 255, 255) if ring(192, x, y) else (*ACCENT, 255))
    outline = png(32, lambda x, y: (255, 255, 255, 255) if ring(32, x, y) else (0, 0, 0, 0))
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False))
        z.writestr("color.png", color)
        z.writestr("outline.png", outline)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bot-id", required=True, help="Microsoft App ID of the Azure Bot (GUID).")
    parser.add_argument("--domain", required=True, help="Public host of the assistant, e.g. assistent.example.nl.")
    parser.add_argument("--out", type=Path, default=Path("aimi-teams.zip"), help="Zip file to write.")
    args = parser.parse_args()
    print(build(args.bot_id, args.domain, args.out))


if __name__ == "__main__":
    main()
