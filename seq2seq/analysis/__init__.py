"""Analysis of trained models: sentence vectors, neighbours, PCA plots, breakdowns."""
