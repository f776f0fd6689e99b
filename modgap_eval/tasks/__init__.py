"""Task definitions: the YAML schema, discovery and validation, dataset sources and TTS."""
