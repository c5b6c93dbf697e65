-- family: rfm
-- purpose: Recency, frequency and monetary value: how recently, how often and how much a user buys.
-- grain: one row per user (user_id)
-- note: An order is a distinct order_id; purchase lines without an order_id form one order per user and timestamp.
-- note: Refund events carry a positive amount that is subtracted from spend; they do not change the order count.
-- note: Days are fractional (seconds / 86400), measured back from as_of.
-- column: recency_days | number | days | days since last purchase | 最近购买距今天数 | Days from the user's last purchase to as_of; empty when the user never purchased.
-- column: recency_visit_days | number | days | days since last visit | 最近访问距今天数 | Days from the user's last event of any kind to as_of; empty without events.
-- column: frequency | count | orders | orders | 购买次数 | Orders placed before as_of.
-- column: monetary | sum | currency | net spend | 净消费金额 | Net spend: purchase amounts minus refund amounts (negative when refunds of earlier purchases exceed them); empty (unknown) for everyone when the shop's purchases carry no amounts.
-- column: aov | number | currency per order | average order value | 客单价 | Average order value: purchase amount before refunds divided by orders; empty without orders.
-- column: ipi_mean_days | number | days | mean days between orders | 平均购买间隔天数 | Mean days between consecutive orders; empty with fewer than 2 orders.
-- column: ipi_std_days | number | days | spread of days between orders | 购买间隔标准差 | Sample standard deviation of the days between consecutive orders; empty with fewer than 3 orders.
-- column: tenure_days | number | days | days as a customer | 客龄天数 | Days from signup, or from the first event when that is earlier or signup is unknown, to as_of.

-- section: rfm_events
SELECT
    user_id,
    min(age_d) FILTER (WHERE is_purchase) AS recency_days,
    min(age_d) AS recency_visit_days,
    coalesce(sum(amount) FILTER (WHERE is_purchase), 0)
        - coalesce(sum(amount) FILTER (WHERE is_refund), 0) AS monetary,
    sum(amount) FILTER (WHERE is_purchase) AS _purchase_amount,
    max(age_d) AS _first_event_age_d
FROM ev
GROUP BY user_id

-- section: rfm_orders
SELECT
    user_id,
    count(*) AS frequency,
    avg(gap_d) AS ipi_mean_days,
    stddev_samp(gap_d) AS ipi_std_days
FROM orders
GROUP BY user_id

-- section: rfm_signup
SELECT
    user_id,
    ({{ as_of_local_epoch }} - epoch(CAST(signup_date AS TIMESTAMP))) / 86400.0 AS _signup_age_d
FROM users

-- section: rfm_derived
SELECT
    user_id,
    _purchase_amount / nullif(frequency, 0) AS aov,
    greatest(_first_event_age_d, _signup_age_d) AS tenure_days
FROM features
