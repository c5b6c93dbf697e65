"""Shops with planted shopper types, written apart from the demo shop, to judge segmentation on
data it was not designed on.

- :mod:`benchmarks.shops.six_types`: one shop of six planted types (champions, loyal bargain
  buyers, window shoppers, cart abandoners, lapsed, newcomers), visits day by day with a
  per-visit funnel; the "hidden shop" of issue 12.
- :mod:`benchmarks.shops.family`: a family of shops, one per seed, from a weekly latent-state
  behaviour model: a different mix of types each time, event volumes from sparse to heavy,
  users between types, prices missing on some or all lines, histories from two months to a year.

Both are pure (a seed in, frames out); :func:`benchmarks.shops.base.shop_features` ingests one
into a workspace exactly as ``segmark ingest`` does and builds its features.
"""

from benchmarks.shops.base import PlantedShop, shop_features

__all__ = ["PlantedShop", "shop_features"]
