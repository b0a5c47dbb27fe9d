{#- Hire outcomes: one row per employee with a review, the 3/6/12-month ratings on 0-1 (from each review's own
    scale, or the rating-word seed) and the probation result. A period reviewed twice keeps its latest review. -#}
with

reviews as (

    select * from {{ ref('stg_review_tool__performance_reviews') }}

),

words as (

    select distinct
        lower(trim(word)) as word,
        value_0_1
    from {{ ref('rating_words') }}

),

normalised as (

    select
        reviews.employee_key,
        reviews.review_period,
        reviews.review_date,
        reviews.probation_passed,
        case
            when
                {{ try_to_double('reviews.rating_raw') }} is not null
                and reviews.scale_max > reviews.scale_min
                then
                    ({{ try_to_double('reviews.rating_raw') }} - reviews.scale_min)
                    / (reviews.scale_max - reviews.scale_min)
            else words.value_0_1
        end as rating_normalised,
        row_number() over (
            partition by reviews.employee_key, reviews.review_period
            order by reviews.review_date desc
        ) as period_rank
    from reviews
    left join words
        on lower(trim(reviews.rating_raw)) = words.word

),

latest_per_period as (

    select * from normalised
    where period_rank = 1

),

pivoted as (

    select
        employee_key,
        max(case when review_period = '3m' then rating_normalised end) as rating_3m,
        max(case when review_period = '6m' then rating_normalised end) as rating_6m,
        max(case when review_period = '12m' then rating_normalised end) as rating_12m,
        max(case when review_period = '3m' then review_date end) as review_3m_date,
        max(case when review_period = '6m' then review_date end) as review_6m_date,
        max(case when review_period = '12m' then review_date end) as review_12m_date,
        max(case when review_period = 'probation' then review_date end) as probation_review_date,
        {{ dbt.bool_or("case when review_period = 'probation' then probation_passed end") }} as probation_passed,
        count(*) as count_reviews
    from latest_per_period
    group by employee_key

)

select * from pivoted
