"""The shop's product catalog: what it sells, at what price, and whether it is in stock.

- ``product``: one product (or one variant of it) and the rules it keeps;
- ``formats``: catalog files in (CSV from WooCommerce, Shopify or a spreadsheet; JSON) with the
  column mapping the owner confirms in a preview, and out (our own CSV);
- ``store``: the only module that reads and writes the ``products`` table;
- ``match``: finding the product a customer means in their words (fuzzy, Persian-normalised,
  Finglish-aware), in memory, reloaded when the catalog changes;
- ``reply``: the reply about a product, built from its fields by a template, never by the model.
"""
