-- family: funnel
-- purpose: How far a user's interest turns into purchases, and how much of it comes back as refunds.
-- grain: one row per user (user_id)
-- note: Cart conversion is measured on distinct items: a carted item converts when the user bought it at or after first carting it.
-- column: view_to_cart_rate | number | carts per view | view-to-cart rate | 浏览加购率 | Add-to-cart events per view event; empty without views.
-- column: cart_to_purchase_rate | number | ratio | cart-to-purchase rate | 加购购买率 | Share of the distinct items the user carted that they bought at or after first carting them; empty without carted items.
-- column: cart_abandonment_rate | number | ratio | cart abandonment rate | 弃购率 | Share of the distinct carted items not bought afterwards (1 - cart_to_purchase_rate).
-- column: refund_rate | number | ratio | refund rate | 退款率 | Refund amount as a share of purchase amount; empty without purchase amount.
-- column: views_total | count | events | views in all | 浏览总次数 | View events before as_of: the base of view_to_cart_rate (how much evidence the rate rests on).
-- column: carted_items | count | items | items carted | 加购商品数 | Distinct items carted before as_of: the base of cart_to_purchase_rate.

-- section: funnel_events
SELECT
    user_id,
    count(*) FILTER (WHERE is_cart) / nullif(count(*) FILTER (WHERE is_view), 0) AS view_to_cart_rate,
    coalesce(sum(amount) FILTER (WHERE is_refund), 0)
        / nullif(sum(amount) FILTER (WHERE is_purchase), 0) AS refund_rate,
    count(*) FILTER (WHERE is_view) AS views_total
FROM ev
GROUP BY user_id

-- section: funnel_cart
SELECT
    user_id,
    count(*) FILTER (WHERE last_purchase_age_d <= first_cart_age_d)
        / nullif(count(first_cart_age_d), 0) AS cart_to_purchase_rate,
    count(first_cart_age_d) AS carted_items
FROM cart_items
GROUP BY user_id

-- section: funnel_derived
SELECT
    user_id,
    1 - cart_to_purchase_rate AS cart_abandonment_rate
FROM features
