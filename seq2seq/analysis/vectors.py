"""The encoder's final state as a sentence vector; nearest neighbours; a 2-D PCA plot.

The paper's Figure 2 projects such vectors of hand-picked phrases: phrases with the same
words in another order land apart, active and passive voice of one meaning land close.
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..data.batching import inference_batches, pad


@torch.no_grad()
def sentence_vectors(translator, sentences: list[str], *, batch_size: int = 64) -> torch.Tensor:
    """(N, D) encoder final states (top layer h) of the sentences, in input order."""
    unk = translator.processor.src_vocab.stoi["<unk>"]
    ids = [x or [unk] for x in translator.encode_sources(sentences)]
    model = translator.model  # an ensemble's first member speaks for it
    out = [None] * len(ids)
    for idx in inference_batches([len(x) for x in ids], batch_size):
        src, src_len = pad([ids[i] for i in idx])
        vec = model.encode(src.to(translator.device), src_len).sentence_vector.float().cpu()
        for i, v in zip(idx, vec):
            out[i] = v
    return torch.stack(out)


def nearest(vectors: torch.Tensor, query: torch.Tensor, k: int = 5) -> list[tuple[int, float]]:
    """Indices and cosine similarities of the k rows of `vectors` closest to `query`."""
    sims = torch.nn.functional.cosine_similarity(vectors, query.unsqueeze(0), dim=1)
    top = sims.topk(min(k, len(sims)))
    return list(zip(top.indices.tolist(), top.values.tolist()))


def pca_2d(vectors: torch.Tensor) -> torch.Tensor:
    """(N, 2) projection on the first two principal components."""
    centred = vectors - vectors.mean(0, keepdim=True)
    _, _, v = torch.linalg.svd(centred, full_matrices=False)
    return centred @ v[:2].T


def plot_pca(
    sentences: list[str], vectors: torch.Tensor, path: str | Path, title: str = ""
) -> Path:
    """Scatter plot of the phrases' 2-D PCA projection, each point labelled (a PNG)."""
    from .plots import pyplot

    plt = pyplot()

    xy = pca_2d(vectors).numpy()
    fig, ax = plt.subplots(figsize=(8, 6), dpi=110)
    ax.scatter(xy[:, 0], xy[:, 1], s=18)
    for (x, y), text in zip(xy, sentences):
        ax.annotate(text, (x, y), fontsize=8, xytext=(4, 3), textcoords="offset points")
    ax.set_title(title or "sentence vectors (2-D PCA of the encoder's final state)")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)
