-- family: preference
-- purpose: What a user is drawn to: categories, how varied their interest is, and how much they pay relative to the shop's usual prices.
-- grain: one row per user (user_id); one share column per top category of the shop (features.top_categories)
-- note: Category interest counts views, searches, carts, favourites and purchases that carry a category (not refunds or cart removals).
-- note: Spend shares divide the user's net purchase amount in a category (its purchase lines less its refund lines) by the user's whole purchase amount before refunds, lines without a category included: a refund lowers the share of the category it belongs to, and over all categories and the lines without one the shares add up to 1 - refund_rate.
-- note: Reference prices are medians over every purchase line before as_of with a positive price, guest lines included; lines without a category are compared with the median of all lines without one.
-- column: top_category | text | category | favourite category | 最偏好品类 | The category with most of the user's interest events; ties go to the alphabetically first; empty without categorised events.
-- column: top_category_share | number | ratio | favourite category's share | 最偏好品类占比 | Share of the user's categorised interest events in top_category.
-- column: category_entropy | number | bits | category variety | 品类多样性 | Shannon entropy of the user's interest events over categories, in bits: 0 for one category, log2(k) for k used equally.
-- column: top_spend_category | text | category | top spend category | 消费最多品类 | The category with most of the user's purchase amount (before refunds); ties go to the alphabetically first; empty without categorised purchases.
-- column: top_spend_category_share | number | ratio | top spend category's share | 消费最多品类占比 | Share of the user's categorised purchase amount spent in top_spend_category.
-- column: cat_share__{category} | number | ratio | share of interest in {category} | 品类{category}占比 | Share of the user's categorised interest events in category {category}.
-- column: spend_share__{category} | number | ratio | share of spend in {category} | 品类{category}消费占比 | The user's purchase amount in category {category} less its refunds, as a share of the user's whole purchase amount before refunds: 0 without purchases there, negative when refunds there exceed the purchases there (of things bought before the data starts); empty without purchase amount.
-- column: price_level | number | ratio | price level | 价格水平 | Mean over the user's purchase lines of price / the median purchase price of the line's category: 1 typical, below 1 bargain, above 1 premium.
-- column: low_price_share | number | ratio | share bought at a low price | 低价购买占比 | Share of the user's purchase lines of items sold at more than one price that were paid below the item's median price; empty without such lines.

-- section: preference_categories
SELECT
    user_id,
    arg_min(category, struct_pack(k := -n, c := category)) FILTER (WHERE n > 0) AS top_category,
    max(n) / nullif(sum(n), 0) AS top_category_share,
    CASE WHEN sum(n) > 0
        THEN greatest(log2(sum(n)) - sum(n * log2(greatest(n, 1))) / sum(n), 0.0)
    END AS category_entropy,
    arg_min(category, struct_pack(k := -spend, c := category)) FILTER (WHERE spend > 0) AS top_spend_category,
    max(spend) / sum(spend) AS top_spend_category_share,
{%- for column, value in top_categories %}
    coalesce(sum(n) FILTER (WHERE category = {{ value | sql_string }}), 0) / nullif(sum(n), 0) AS "{{ column }}",
{%- endfor %}
{%- for column, value in spend_categories %}
    sum(coalesce(spend, 0) - coalesce(refunded, 0)) FILTER (WHERE category = {{ value | sql_string }})
        AS "_net_{{ column }}",
{%- endfor %}
    sum(n) AS _category_events
FROM user_category
GROUP BY user_id

-- section: preference_spend
SELECT
    user_id,
    sum(amount) FILTER (WHERE is_purchase) AS _purchase_total
FROM ev
GROUP BY user_id

-- section: preference_spend_shares
SELECT
    user_id
{%- for column, value in spend_categories %},
    coalesce("_net_{{ column }}", 0) / nullif(_purchase_total, 0) AS "{{ column }}"
{%- endfor %}
FROM features

-- section: preference_prices
SELECT
    user_id,
    avg(price_ratio) AS price_level,
    avg(CASE WHEN below_item_median THEN 1.0 WHEN NOT below_item_median THEN 0.0 END) AS low_price_share
FROM paid_prices
GROUP BY user_id
