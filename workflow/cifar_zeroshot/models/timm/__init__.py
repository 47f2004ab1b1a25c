"""timm models: names and their catalog, weights from the Hugging Face cache, the classifier
with its penultimate features, and its data config as the project's preprocessing."""
