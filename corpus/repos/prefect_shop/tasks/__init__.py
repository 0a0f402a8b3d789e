"""Tasks every flow of the shop shares."""
