"""aimsource: discovers model images in OCI registries and creates AIMClusterModels for them."""

__version__ = "0.1.0"
