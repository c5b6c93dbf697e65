-- family: attributes
-- purpose: Who the user is, from the users table: age and age band, gender, city and membership.
-- grain: one row per user (user_id)
-- note: The users table holds each user's latest attributes, so only age is computed as of as_of; the others are as on file.
-- note: Age bands and their English and Chinese labels are settings (features.age_bands); the label follows the workspace language (lang).
-- column: age | number | years | age | 年龄 | Whole years at as_of, from birth_date when known, else the age on file; empty when unknown or outside 0-120.
-- column: age_band | text | band | age band | 年龄段 | The user's age band; by default under 18 / young adult (18-34) / middle-aged (35-59) / senior (60+), in Chinese 未成年 / 青年 / 中年 / 老年.
-- column: gender | text | | gender | 性别 | As on file (female / male where ingestion recognised it).
-- column: city | text | | city | 城市 | As on file.
-- column: member_level | text | | member level | 会员等级 | As on file.

-- section: attributes_users
SELECT
    user_id,
    CASE
        WHEN birth_date IS NOT NULL THEN {{ as_of_year }} - year(birth_date)
            - CASE WHEN month(birth_date) * 100 + day(birth_date) > {{ as_of_month_day }} THEN 1 ELSE 0 END
        ELSE age
    END AS _age_years,
    gender,
    city,
    member_level
FROM users

-- section: attributes_derived
SELECT
    user_id,
    CASE WHEN _age_years BETWEEN 0 AND 120 THEN _age_years END AS age,
    CASE
        WHEN _age_years < 0 OR _age_years > 120 THEN NULL
{%- for band in age_bands | reverse %}
        WHEN _age_years >= {{ band.min }} THEN {{ band.label | sql_string }}
{%- endfor %}
    END AS age_band
FROM features
