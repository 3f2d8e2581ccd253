"""The demo county of the article and the seeding that writes it."""
