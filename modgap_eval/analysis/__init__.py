"""Representation analysis: layer-wise similarity, alignment paths and APS, correlation, interventions."""
