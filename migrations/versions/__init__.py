"""Revision files; a package so that wheels include them."""
