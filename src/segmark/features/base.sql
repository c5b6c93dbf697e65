-- The relations every family reads, derived once from the canonical tables (events, users).
-- Each starts at a `-- relation: NAME` line followed by comment lines that say what it holds.
-- Families read these relations and the table `users`; nothing else.

-- relation: ev
-- The identified users' events strictly before as_of (guest events, with no user_id, never count
-- towards a user), with event-type flags and times derived once: `t` seconds since 1970 (UTC),
-- `age_d` days before as_of, and the shop's local clock (time.timezone) as `local_t`, `local_day`
-- (days since 1970), `local_hour` (0-23) and `local_dow` (1 = Monday ... 7 = Sunday).
SELECT
    user_id, event_type, ts, item_id, category, price, quantity, amount, order_id, session_id, channel,
    event_type = 'view' AS is_view,
    event_type = 'search' AS is_search,
    event_type = 'cart' AS is_cart,
    event_type = 'remove_cart' AS is_remove_cart,
    event_type = 'fav' AS is_fav,
    event_type = 'purchase' AS is_purchase,
    event_type = 'refund' AS is_refund,
    epoch(ts) AS t,
    ({{ as_of_epoch }} - epoch(ts)) / 86400.0 AS age_d,
    {{ local_t }} AS local_t,
    CAST(floor({{ local_t }} / 86400) AS BIGINT) AS local_day,
    CAST(floor(({{ local_t }} % 86400) / 3600) AS INTEGER) AS local_hour,
    CAST((floor({{ local_t }} / 86400) + 3) % 7 + 1 AS INTEGER) AS local_dow
FROM events
WHERE user_id IS NOT NULL AND ts < {{ as_of_sql }}

-- relation: shop_amounts
-- One row: `amounts_known`, false when the identified users have purchases before as_of and none
-- of them carries an amount (a behaviour log without prices, such as Taobao's). Spend is then
-- unknown, not 0, for every user: the `sum` features are empty. With no purchase yet, nobody has
-- spent anything: known.
SELECT count(amount) > 0 OR count(*) = 0 AS amounts_known
FROM ev
WHERE is_purchase

-- relation: known_users
-- Users on file whose signup day began before as_of, or whose signup date is unknown.
SELECT user_id
FROM users
WHERE signup_date IS NULL OR CAST(signup_date AS TIMESTAMP) < {{ as_of_local_sql }}

-- relation: orders
-- One row per order: a distinct order_id, or, for purchase lines without one, one order per user
-- and timestamp. `age_d` is the order's first line; `gap_d` the days since the user's previous order.
SELECT
    user_id,
    age_d,
    lag(age_d) OVER (PARTITION BY user_id ORDER BY age_d DESC) - age_d AS gap_d
FROM (
    SELECT user_id, max(age_d) AS age_d
    FROM ev
    WHERE is_purchase
    GROUP BY user_id, order_id, CASE WHEN order_id IS NULL THEN ts END
) AS o

-- relation: ev_sequence
-- Each event, marked when it is the last of its session or of its local day. A session is a run
-- of consecutive events with the same session_id; events without one are split by an inactivity
-- gap longer than features.session_gap_minutes. Events at the same instant are ordered by their
-- session id, so that the order, and with it the count of sessions, is the same on every build
-- (ordered by time alone, ties came in any order: two events of sessions A and B in the same second
-- inside session A's run made it one session or two, from one build to the next).
SELECT
    user_id,
    age_d,
    next_t IS NULL
        OR next_session_id IS DISTINCT FROM session_id
        OR (session_id IS NULL AND next_t - t > {{ session_gap_seconds }}) AS ends_session,
    next_t IS NULL OR next_day <> local_day AS ends_day
FROM (
    SELECT
        user_id, age_d, t, local_day, session_id,
        lead(t) OVER w AS next_t,
        lead(session_id) OVER w AS next_session_id,
        lead(local_day) OVER w AS next_day
    FROM ev
    WINDOW w AS (PARTITION BY user_id ORDER BY t, session_id)
) AS s

-- relation: user_category
-- Per user and category (cart removals left out): `n` the interest events (views, searches, carts,
-- favourites, purchases; 0 where the user only had refunds), `spend` the purchase amount before
-- refunds and `refunded` the refund amount.
SELECT
    user_id,
    category,
    count(*) FILTER (WHERE NOT is_refund) AS n,
    sum(amount) FILTER (WHERE is_purchase) AS spend,
    sum(amount) FILTER (WHERE is_refund) AS refunded
FROM ev
WHERE category IS NOT NULL AND NOT is_remove_cart
GROUP BY user_id, category

-- relation: user_hour
-- Events per user and local hour of day.
SELECT user_id, local_hour, count(*) AS n
FROM ev
GROUP BY user_id, local_hour

-- relation: purchase_prices
-- Every purchase line before as_of with a positive price, guest lines included: they are part of
-- the prices the shop charges.
SELECT user_id, item_id, category, price
FROM events
WHERE event_type = 'purchase' AND ts < {{ as_of_sql }} AND price > 0

-- relation: category_price
-- The median purchase price of each category; lines without a category form one group.
SELECT coalesce(category, '') AS category_key, median(price) AS median_price
FROM purchase_prices
GROUP BY coalesce(category, '')

-- relation: item_price
-- The median purchase price of each item, and whether it was ever sold at more than one price.
SELECT item_id, median(price) AS median_price, min(price) < max(price) AS price_varies
FROM purchase_prices
WHERE item_id IS NOT NULL
GROUP BY item_id

-- relation: paid_prices
-- The identified users' purchase lines against their category's and item's median price.
SELECT
    p.user_id,
    p.price / c.median_price AS price_ratio,
    CASE WHEN i.price_varies THEN p.price < i.median_price END AS below_item_median
FROM purchase_prices AS p
JOIN category_price AS c ON c.category_key = coalesce(p.category, '')
LEFT JOIN item_price AS i ON i.item_id = p.item_id
WHERE p.user_id IS NOT NULL

-- relation: cart_items
-- Per user and item that was carted or bought: the first cart and the last purchase, as days
-- before as_of.
SELECT
    user_id,
    item_id,
    max(age_d) FILTER (WHERE is_cart) AS first_cart_age_d,
    min(age_d) FILTER (WHERE is_purchase) AS last_purchase_age_d
FROM ev
WHERE (is_cart OR is_purchase) AND item_id IS NOT NULL
GROUP BY user_id, item_id
