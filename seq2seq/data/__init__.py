"""Data: readers, tokenizers, pure transforms, batching, and the built-in datasets."""

from .batching import Batch, BucketSampler, collate, inference_batches
from .processor import Processor
from .splits import group_split, references

__all__ = [
    "Batch",
    "BucketSampler",
    "Processor",
    "collate",
    "group_split",
    "inference_batches",
    "references",
]
