"""Token sequences from the test part of a text, for `lyap spectrum --tokens` and
scripts/paper_style_spectrum.py (EXPERIMENTS.md). Vocabulary and split as `lyap train
--task charrnn` (docs/DESIGN.md section 5): the distinct characters sorted by code point,
80/10/10 in order; BATCH non-overlapping stretches of LEN characters, evenly spaced over the
test part.

usage: python scripts/text_tokens.py TEXT BATCH LEN OUT.npy
"""
import sys
import numpy as np

path, batch, length, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
text = open(path, encoding="utf-8").read()
vocab = sorted(set(text))
index = {ch: i for i, ch in enumerate(vocab)}
test = text[len(text) - len(text) // 10:]
stride = len(test) // batch
assert stride >= length, "test part too short"
rows = [[index[ch] for ch in test[b * stride: b * stride + length]] for b in range(batch)]
np.save(out, np.array(rows, dtype=np.int64))
print(f"{out}: {batch} x {length} tokens, vocabulary {len(vocab)}")
