"""CLIP models: names and their catalog, weights from the Hugging Face cache, the image tower
and its preprocessing."""
