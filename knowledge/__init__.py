"""The knowledge core: sources -> passages -> TF-IDF index -> cited, extractive answers. Never imports discord."""
