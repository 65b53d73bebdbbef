"""A picture of a real answer as Discord shows it, drawn from the bot's own embed JSON.

    pip install -e '.[bench]'                          # Pillow (with matplotlib), to crop the screenshot
    apt-get install chromium fonts-noto-color-emoji    # Debian; any Chromium or Chrome will do (--browser)
    python docs/tools/answer_picture.py                # writes docs/img/answer.json and docs/img/answer.png
    python docs/tools/answer_picture.py --question "Can IOM staff travel on UN passports?" --out /tmp/answer.png

It answers the question from the bundled knowledge base, builds the message exactly as `/ask` sends it (the
embed from bot/render.py, the buttons from bot/views.py, with the 👍 / 👎 that storage adds), writes the
message's JSON (what the bot sends to Discord: `Embed.to_dict()` and `View.to_components()`), renders that JSON
as HTML in the colours of Discord's dark theme, and screenshots it with headless Chromium. Run it again when
the answer path, the embeds or the sources change, and commit both files: the picture stays true because it is
made from what the bot sends. Discord's own font (gg sans) is not free: the picture uses the system sans-serif.
Not part of the tests or CI.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

QUESTION = "Can IOM staff use the UN laissez-passer?"  # the README's example
ANSWER_ID = "0" * 16  # what storage would give the answer; it only appears in the buttons' custom ids
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH_PX = 720
SCALE = 2  # device pixels per CSS pixel: sharp on high-density screens
MARGIN_PX = 12  # kept around the message when the screenshot is cropped
BACKGROUND = (0x31, 0x33, 0x38)  # Discord's dark theme: the chat's background

# Discord's inline markdown, as far as embeds use it: escapes, links, bold, italics, code.
INLINE = re.compile(
    r"\\(?P<escaped>[^\w\s])"
    r"|\[(?P<label>[^\]]+)\]\((?P<url>https?://[^)\s]+)\)"
    r"|\*\*(?P<bold>.+?)\*\*"
    r"|(?<![\w*])\*(?P<italic>[^*\s](?:[^*]*[^*\s])?)\*(?!\*)"
    r"|(?<!\w)_(?P<underscore>[^_\s](?:[^_]*[^_\s])?)_(?!\w)"
    r"|`(?P<code>[^`]+)`"
)
GROUPS = ("escaped", "label", "bold", "italic", "underscore", "code")

STYLE = """
body { margin: 0; background: #313338; color: #dbdee1; width: %(width)dpx;
       font: 16px/1.375 "gg sans", "Noto Sans", "Helvetica Neue", "Liberation Sans", "DejaVu Sans", sans-serif; }
.message { padding: 8px 48px 12px 72px; position: relative; }
.reply { font-size: 14px; color: #b5bac1; margin-bottom: 4px; display: flex; align-items: center; gap: 4px; }
.reply .mini { width: 16px; height: 16px; border-radius: 50%%; background: #3ba55c; display: inline-block; }
.reply .command { color: #00a8fc; }
.avatar { position: absolute; left: 16px; top: 34px; width: 40px; height: 40px; border-radius: 50%%;
          background: #5865f2; color: #fff; font-size: 13px; font-weight: 700; display: flex;
          align-items: center; justify-content: center; letter-spacing: 0.02em; }
.header { display: flex; align-items: baseline; gap: 4px; }
.name { color: #f2f3f5; font-weight: 600; }
.tag { background: #5865f2; color: #fff; font-size: 10px; font-weight: 600; border-radius: 3px;
       padding: 0 4px; line-height: 15px; position: relative; top: -2px; }
.time { color: #949ba4; font-size: 12px; margin-left: 4px; }
.embed { margin-top: 4px; max-width: 516px; background: #2b2d31; border-radius: 4px; border-left: 4px solid;
         padding: 8px 16px 16px 12px; font-size: 14px; }
.title { color: #f2f3f5; font-weight: 600; font-size: 16px; margin-top: 8px; }
.description { margin-top: 8px; white-space: pre-wrap; }
.field { margin-top: 8px; }
.field-name { color: #f2f3f5; font-weight: 600; margin-bottom: 2px; }
.field-value { white-space: pre-wrap; }
.footer { margin-top: 8px; font-size: 12px; font-weight: 500; }
blockquote { margin: 0; padding: 0 8px 0 12px; border-left: 4px solid #4e5058; border-radius: 4px; }
a { color: #00a8fc; text-decoration: none; }
code { background: #1e1f22; border-radius: 3px; padding: 0 2px; font: 85%% monospace; }
.buttons { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 8px; }
.button { background: #4e5058; color: #fff; border-radius: 3px; height: 32px; min-width: 60px; padding: 0 16px;
          box-sizing: border-box; display: flex; align-items: center; justify-content: center; font-size: 14px;
          font-weight: 500; }
.button.primary { background: #5865f2; } .button.success { background: #248046; }
.button.danger { background: #da373c; }
"""
BUTTON_STYLES = {1: "primary", 2: "secondary", 3: "success", 4: "danger", 5: "secondary"}


def message_payload(question: str) -> dict[str, Any]:
    """The message /ask sends for question, as the JSON the bot sends to Discord."""
    from bot import render
    from bot.views import AnswerView
    from knowledge.base import KnowledgeBase

    knowledge = KnowledgeBase.load()
    answer = knowledge.answer(question)
    if answer.smalltalk:
        raise SystemExit(f"{question!r} reads as small talk: the bot would answer with one line, not an embed")

    async def components() -> list[dict[str, Any]]:  # a View needs a running event loop
        return AnswerView(answer, knowledge.version, answer_id=ANSWER_ID).to_components()

    return {
        "command": "ask",
        "question": question,
        "embeds": [render.answer_embed(answer, knowledge).to_dict()],
        "components": asyncio.run(components()),
    }


def inline(text: str) -> str:
    """Discord's inline markdown as HTML (everything else escaped)."""
    out, last = [], 0
    for match in INLINE.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        last = match.end()
        kind = next(name for name in GROUPS if match[name] is not None)
        if kind == "escaped":
            out.append(html.escape(match["escaped"]))
        elif kind == "label":
            out.append(f'<a href="{html.escape(match["url"])}">{inline(match["label"])}</a>')
        elif kind == "bold":
            out.append(f"<strong>{inline(match['bold'])}</strong>")
        elif kind in ("italic", "underscore"):
            out.append(f"<em>{inline(match[kind])}</em>")
        else:
            out.append(f"<code>{html.escape(match['code'])}</code>")
    out.append(html.escape(text[last:]))
    return "".join(out)


def markdown(text: str) -> str:
    """Inline markdown line by line, runs of "> " lines as one block quote."""
    blocks: list[str] = []
    quoted: list[str] = []
    for line in text.split("\n"):
        if line == ">" or line.startswith("> "):
            quoted.append(inline(line[2:]))
            continue
        if quoted:
            blocks.append("<blockquote>" + "\n".join(quoted) + "</blockquote>")
            quoted = []
        blocks.append(inline(line) + "\n")
    if quoted:
        blocks.append("<blockquote>" + "\n".join(quoted) + "</blockquote>")
    return "".join(blocks).rstrip("\n")


def embed_html(embed: dict[str, Any]) -> str:
    colour = f"#{embed.get('color', 0x1E1F22):06x}"
    parts = [f'<div class="embed" style="border-left-color: {colour}">']
    if embed.get("title"):
        parts.append(f'<div class="title">{inline(embed["title"])}</div>')
    if embed.get("description"):
        parts.append(f'<div class="description">{markdown(embed["description"])}</div>')
    for field in embed.get("fields", []):
        parts.append(
            f'<div class="field"><div class="field-name">{inline(field["name"])}</div>'
            f'<div class="field-value">{markdown(field["value"])}</div></div>'
        )
    if embed.get("footer", {}).get("text"):
        parts.append(f'<div class="footer">{html.escape(embed["footer"]["text"])}</div>')
    return "".join(parts) + "</div>"


def button_html(button: dict[str, Any]) -> str:
    emoji = (button.get("emoji") or {}).get("name") or ""
    label = " ".join(part for part in (emoji, button.get("label") or "") if part)
    return f'<div class="button {BUTTON_STYLES.get(button.get("style", 2), "secondary")}">{html.escape(label)}</div>'


def page(payload: dict[str, Any], bot_name: str) -> str:
    """The message as Discord's dark theme shows it: the /ask line, the bot's name, the embeds, the buttons."""
    embeds = "".join(embed_html(embed) for embed in payload["embeds"])
    rows = "".join(
        '<div class="buttons">' + "".join(button_html(b) for b in row["components"]) + "</div>"
        for row in payload["components"]
    )
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><style>{STYLE % {"width": WIDTH_PX}}</style></head>'
        f'<body><div class="message"><div class="reply"><span class="mini"></span>member used '
        f'<span class="command">/{html.escape(payload["command"])}</span></div>'
        f'<div class="avatar">IOM</div><div class="header"><span class="name">{html.escape(bot_name)}</span>'
        f'<span class="tag">APP</span><span class="time">Today at 09:41</span></div>'
        f"{embeds}{rows}</div></body></html>"
    )


def find_browser(name: str | None) -> str:
    found = shutil.which(name) if name else next((p for b in BROWSERS if (p := shutil.which(b))), None)
    if found is None:
        raise SystemExit(f"no Chromium found ({name or ', '.join(BROWSERS)}): apt-get install chromium, or --browser")
    return found


def screenshot(browser: str, page_file: Path, out: Path) -> None:
    """Headless Chromium's screenshot of page_file, cropped to the message plus MARGIN_PX."""
    from PIL import Image, ImageChops

    command = [
        browser,
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        f"--force-device-scale-factor={SCALE}",
        f"--window-size={WIDTH_PX},1600",
        f"--screenshot={out}",
        page_file.as_uri(),
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # Chromium refuses to run as root with its sandbox
        command.insert(1, "--no-sandbox")
    subprocess.run(command, check=True, capture_output=True, timeout=120)
    with Image.open(out) as shot:
        image = shot.convert("RGB")
    box = ImageChops.difference(image, Image.new("RGB", image.size, BACKGROUND)).getbbox()
    if box is None:
        raise SystemExit("the screenshot is empty")
    margin = MARGIN_PX * SCALE
    left, top, right, bottom = box
    crop = (
        max(left - margin, 0),
        max(top - margin, 0),
        min(right + margin, image.width),
        min(bottom + margin, image.height),
    )
    image.crop(crop).save(out, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--question", default=QUESTION, help=f"what to ask (default: {QUESTION!r})")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "answer.png", help="the PNG to write")
    parser.add_argument("--json", type=Path, help="the message JSON to write (default: beside --out, .json)")
    parser.add_argument("--html", type=Path, help="also keep the HTML page here")
    parser.add_argument("--browser", help="the Chromium or Chrome executable (default: the first on PATH)")
    parser.add_argument("--bot-name", default="IOM bot", help="the name shown above the answer")
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    payload = message_payload(args.question)
    json_path = args.json or args.out.with_suffix(".json")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(payload, indent=1, ensure_ascii=False) + "\n", "utf-8")
    with tempfile.TemporaryDirectory(prefix="answer-picture-") as tmp:
        page_file = args.html or Path(tmp) / "answer.html"
        page_file.write_text(page(payload, args.bot_name), "utf-8")
        screenshot(browser, page_file.resolve(), args.out)
    print(f"{json_path}\n{args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
