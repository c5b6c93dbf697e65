-- family: time
-- purpose: When a user shops, on the shop's local clock (time.timezone), and whether their activity is rising or falling.
-- grain: one row per user (user_id)
-- note: Storage is UTC; hours and weekdays are converted to time.timezone, daylight saving included.
-- note: The weekday band compares events per day, not in total: Saturday and Sunday are 2 of the 7 days, so the weekend is the preferred band when it holds more than 2/7 of the user's events, and a user equally active every day is a weekday user. The band's value follows the workspace language (lang).
-- column: preferred_hour | number | hour (0-23) | preferred hour | 偏好小时 | The local hour of day holding most of the user's events; ties go to the earliest hour.
-- column: preferred_daypart | text | daypart | preferred time of day | 偏好时段 | morning (6-12h), afternoon (12-18h), evening (18-24h) or night (0-6h), whichever holds most of the user's events; ties go in that order.
-- column: preferred_weekday | number | weekday (1 = Monday ... 7 = Sunday) | preferred weekday | 偏好星期 | The local day of the week holding most of the user's events, 1 = Monday ... 7 = Sunday; ties go to the earliest in the week, Monday first.
-- column: preferred_weekday_band | text | band | weekdays or weekend | 偏好工作日或周末 | weekend when the user's events per weekend day exceed their events per weekday, Monday to Friday (weekend_share above 2/7), else weekday, a tie included; empty without events. In Chinese 周末 / 工作日.
-- column: weekend_share | number | ratio | weekend share of activity | 周末活跃占比 | Share of the user's events on local Saturdays and Sundays.
-- column: trend_30d | number | ratio | activity trend over 30 days | 近30天活跃趋势 | (events in the last 30 days + 1) / (events in the 30 days before + 1): 1 steady, above 1 rising, below 1 falling; the +1 keeps it defined when a period is empty. Empty when the shop's log does not reach 45 days before as_of (99% of its events are more recent): the 30 days before are then mostly outside the log, and over a nine-day log every user would be "rising".

-- section: time_hours
SELECT
    user_id,
    arg_max(local_hour, n * 24 + (23 - local_hour)) AS preferred_hour,
    coalesce(sum(n) FILTER (WHERE local_hour >= 6 AND local_hour < 12), 0) AS _morning_events,
    coalesce(sum(n) FILTER (WHERE local_hour >= 12 AND local_hour < 18), 0) AS _afternoon_events,
    coalesce(sum(n) FILTER (WHERE local_hour >= 18), 0) AS _evening_events,
    coalesce(sum(n) FILTER (WHERE local_hour < 6), 0) AS _night_events
FROM user_hour
GROUP BY user_id

-- section: time_events
SELECT
    user_id,
    avg(CASE WHEN local_dow >= 6 THEN 1.0 ELSE 0.0 END) AS weekend_share,
{%- for day in range(1, 8) %}
    count(*) FILTER (WHERE local_dow = {{ day }}) AS _dow{{ day }}_events,
{%- endfor %}
    CASE WHEN (SELECT quantile_cont(age_d, 0.99) FROM ev) >= 45 THEN (count(*) FILTER (WHERE age_d <= 30) + 1)
        / (count(*) FILTER (WHERE age_d > 30 AND age_d <= 60) + 1) END AS trend_30d
FROM ev
GROUP BY user_id

-- section: time_derived
SELECT
    user_id,
    CASE greatest(_morning_events, _afternoon_events, _evening_events, _night_events)
        WHEN _morning_events THEN 'morning'
        WHEN _afternoon_events THEN 'afternoon'
        WHEN _evening_events THEN 'evening'
        WHEN _night_events THEN 'night'
    END AS preferred_daypart,
    CASE greatest({% for day in range(1, 8) %}_dow{{ day }}_events{{ ", " if not loop.last }}{% endfor %})
{%- for day in range(1, 8) %}
        WHEN _dow{{ day }}_events THEN {{ day }}
{%- endfor %}
    END AS preferred_weekday,
    CASE
        WHEN (_dow6_events + _dow7_events) * 5 > (_dow1_events + _dow2_events + _dow3_events + _dow4_events
            + _dow5_events) * 2 THEN {{ weekday_bands.weekend | sql_string }}
        WHEN (_dow6_events + _dow7_events) * 5 <= (_dow1_events + _dow2_events + _dow3_events + _dow4_events
            + _dow5_events) * 2 THEN {{ weekday_bands.weekday | sql_string }}
    END AS preferred_weekday_band
FROM features
