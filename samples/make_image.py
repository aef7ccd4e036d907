"""Draw the sample cover image once (Pillow); the JPEG is committed: ``python samples/make_image.py``."""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 1600, 900


def draw() -> Image.Image:
    image = Image.new("RGB", (WIDTH, HEIGHT))
    pixels = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # a red-to-gold gradient, like the office's banners
        t = y / HEIGHT
        pixels.line([(0, y), (WIDTH, y)], fill=(int(200 - 40 * t), int(30 + 150 * t), int(30 + 10 * t)))
    cx, cy, r = WIDTH // 2, HEIGHT // 2, 220
    star = []
    for i in range(10):  # a five-pointed star
        radius = r if i % 2 == 0 else r * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        star.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
    pixels.polygon(star, fill=(255, 221, 0))
    pixels.rectangle([40, HEIGHT - 120, WIDTH - 40, HEIGHT - 40], outline=(255, 255, 255), width=4)
    return image


if __name__ == "__main__":
    draw().save(Path(__file__).with_name("anh-bia.jpg"), "JPEG", quality=82, optimize=True)
