#!/usr/bin/python3
"""Writes a synthetic catalogue in the seed's layout for ingestion benchmarks:
OUT/p{n}/image_{k}.jpg, 500x500 photos-like JPEGs (gradients and shapes), deterministic.

usage: /usr/bin/python3 bench/make_catalogue.py OUT PRODUCTS [IMAGES_PER_PRODUCT=2]
"""
import os
import random
import sys

from PIL import Image, ImageDraw


def picture(rng: random.Random) -> Image.Image:
    a = [rng.randrange(256) for _ in range(3)]
    b = [rng.randrange(256) for _ in range(3)]
    img = Image.new("RGB", (500, 500))
    draw = ImageDraw.Draw(img)
    for y in range(0, 500, 4):
        t = y / 500
        draw.rectangle([0, y, 500, y + 4], fill=tuple(int(a[c] + (b[c] - a[c]) * t) for c in range(3)))
    for _ in range(rng.randrange(4, 12)):
        x, y, r = rng.randrange(500), rng.randrange(500), rng.randrange(10, 150)
        colour = tuple(rng.randrange(256) for _ in range(3))
        box = [x - r, y - r, x + r, y + r]
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return img


def main() -> None:
    out, products = sys.argv[1], int(sys.argv[2])
    per_product = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    rng = random.Random(42)
    for p in range(products):
        folder = os.path.join(out, f"p{p}")
        os.makedirs(folder, exist_ok=True)
        for k in range(1, per_product + 1):
            picture(rng).save(os.path.join(folder, f"image_{k}.jpg"), quality=90)


if __name__ == "__main__":
    main()
