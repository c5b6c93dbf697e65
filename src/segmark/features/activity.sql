-- family: activity
-- purpose: How active a user was in each look-back window: events by kind, orders, spend, active days and sessions.
-- grain: one row per user (user_id); one column per measure and window W of features.windows
-- note: Window W holds the events with as_of - W days <= ts < as_of.
-- note: A session is a run of the user's consecutive events with the same session_id; events without one are split where the user was inactive for more than features.session_gap_minutes (default 30). A session or day counts in a window when it has at least one event in it.
-- note: Active days are days of the shop's local calendar (time.timezone).
-- column: views_{W}d | count | events | views in the last {W} days | 近{W}天浏览次数 | View events in the last W days.
-- column: searches_{W}d | count | events | searches in the last {W} days | 近{W}天搜索次数 | Search events in the last W days.
-- column: carts_{W}d | count | events | add-to-carts in the last {W} days | 近{W}天加购次数 | Add-to-cart events in the last W days.
-- column: favs_{W}d | count | events | favourites in the last {W} days | 近{W}天收藏次数 | Favourite events in the last W days.
-- column: purchases_{W}d | count | lines | purchase lines in the last {W} days | 近{W}天购买行数 | Purchase events (order lines) in the last W days.
-- column: orders_{W}d | count | orders | orders in the last {W} days | 近{W}天订单数 | Orders whose first line falls in the last W days.
-- column: spend_{W}d | sum | currency | net spend in the last {W} days | 近{W}天净消费 | Net spend (purchases minus refunds) in the last W days; empty (unknown) for everyone when the shop's purchases carry no amounts.
-- column: active_days_{W}d | count | days | active days in the last {W} days | 近{W}天活跃天数 | Local calendar days with at least one event in the last W days.
-- column: sessions_{W}d | count | sessions | sessions in the last {W} days | 近{W}天会话数 | Sessions with at least one event in the last W days.
-- column: sessions_total | count | sessions | sessions in all | 会话总数 | Sessions before as_of: the base of views_per_session.
-- column: views_per_session | number | views per session | views per session | 每次会话浏览数 | View events per session before as_of: how deeply the user browses (pages per visit); empty without sessions.
-- column: weeks_observed | count | weeks | weeks since the first event | 首次行为以来周数 | Weeks from the user's first event to as_of, counted back from as_of in whole 7-day steps (an event less than 7 days before as_of is in week 1): the base of active_week_share; 0 without events.
-- column: active_week_share | number | ratio | share of weeks active | 活跃周占比 | Share of the weeks since the user's first event that hold an event, of weeks_observed: how regularly the user comes back, at any volume; empty without events. Over few weeks it is noise (one visit in the one week since arriving reads 1), so clustering shrinks it toward the shop's share by weeks_observed.

-- section: activity_events
SELECT
    user_id,
{%- for w in windows %}
    count(*) FILTER (WHERE is_view AND age_d <= {{ w }}) AS views_{{ w }}d,
    count(*) FILTER (WHERE is_search AND age_d <= {{ w }}) AS searches_{{ w }}d,
    count(*) FILTER (WHERE is_cart AND age_d <= {{ w }}) AS carts_{{ w }}d,
    count(*) FILTER (WHERE is_fav AND age_d <= {{ w }}) AS favs_{{ w }}d,
    count(*) FILTER (WHERE is_purchase AND age_d <= {{ w }}) AS purchases_{{ w }}d,
    sum(CASE WHEN is_purchase THEN amount WHEN is_refund THEN -amount END)
        FILTER (WHERE age_d <= {{ w }}) AS spend_{{ w }}d{{ "," if not loop.last }}
{%- endfor %}
FROM ev
GROUP BY user_id

-- section: activity_orders
SELECT
    user_id,
{%- for w in windows %}
    count(*) FILTER (WHERE age_d <= {{ w }}) AS orders_{{ w }}d{{ "," if not loop.last }}
{%- endfor %}
FROM orders
GROUP BY user_id

-- section: activity_sequence
SELECT
    user_id,
{%- for w in windows %}
    count(*) FILTER (WHERE ends_day AND age_d <= {{ w }}) AS active_days_{{ w }}d,
    count(*) FILTER (WHERE ends_session AND age_d <= {{ w }}) AS sessions_{{ w }}d,
{%- endfor %}
    count(*) FILTER (WHERE ends_session) AS sessions_total
FROM ev_sequence
GROUP BY user_id

-- section: activity_weeks
SELECT
    user_id,
    max(CAST(floor(age_d / 7) AS BIGINT)) + 1 AS weeks_observed,
    count(DISTINCT CAST(floor(age_d / 7) AS BIGINT)) / (max(CAST(floor(age_d / 7) AS BIGINT)) + 1) AS active_week_share
FROM ev
GROUP BY user_id

-- section: activity_depth
SELECT
    user_id,
    views_total / nullif(sessions_total, 0) AS views_per_session
FROM features
