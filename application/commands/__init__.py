"""The commands of each area, one class per area that AltlasApplication combines."""
