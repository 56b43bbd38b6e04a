"""The shop's orders, read where the shop keeps them (WooCommerce, a JSON address, a spreadsheet),
told only to the customer who owns the order (issue #32)."""
