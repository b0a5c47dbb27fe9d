{#- One row per human interviewer x competency, plus one row per interviewer with competency_code 'all'.
    For every interview x competency the interviewer scored alongside at least one other rater (AI or human):
      deviation = own normalised score - mean of the other raters' scores on that interview x competency;
      leniency  = mean deviation (> 0: scores above the panel);
      score_sd  = sample SD of the interviewer's own scores (spread);
      agreement_r = Pearson correlation, over those interviews, between the interviewer's score and the rest of
                    the panel's mean (consistency: blind to a constant offset);
      agreement_icc = intraclass correlation ICC(A,1), two-way, absolute agreement (McGraw & Wong 1996), of the
                    two "raters" interviewer vs rest-of-panel mean over those interviews. With k = 2 the ANOVA mean
                    squares reduce to MSR = var(x + y) / 2, MSE = var(x - y) / 2, MSC = n * mean(x - y)^2 / 2, so
                    ICC = (MSR - MSE) / (MSR + MSE + 2 / n * (MSC - MSE)); a lenient rater lowers it, unlike r.
    needs_calibration: at least var('calibration_min_interviews') shared interviews, and |leniency| above
    var('calibration_max_abs_leniency') or agreement_r below var('calibration_min_agreement').
    Statistics on fewer than var('min_cell_size') shared interviews are suppressed. -#}
with

ratings as (

    select * from {{ ref('interview_ratings') }}

),

panels as (

    select
        interview_id,
        competency_code,
        sum(score_normalised) as panel_sum,
        count(*) as panel_size
    from ratings
    group by interview_id, competency_code

),

human_vs_panel as (

    select
        ratings.rater_id,
        ratings.competency_code,
        ratings.interview_id,
        ratings.score_normalised,
        case
            when panels.panel_size > 1
                then (panels.panel_sum - ratings.score_normalised) / (panels.panel_size - 1)
        end as others_mean
    from ratings
    inner join panels
        on
            ratings.interview_id = panels.interview_id
            and ratings.competency_code = panels.competency_code
    where ratings.rater_type = 'human'

),

per_competency as (

    select
        rater_id,
        competency_code,
        score_normalised,
        others_mean,
        interview_id
    from human_vs_panel

),

all_competencies as (

    select
        rater_id,
        'all' as competency_code,
        score_normalised,
        others_mean,
        interview_id
    from human_vs_panel

),

unioned as (

    select * from per_competency
    union all
    select * from all_competencies

),

aggregated as (

    select
        rater_id,
        competency_code,
        count(distinct interview_id) as count_interviews_scored,
        count(distinct case when others_mean is not null then interview_id end) as count_interviews,
        avg(score_normalised) as mean_score,
        avg(score_normalised - others_mean) as leniency,
        stddev_samp(score_normalised) as score_sd,
        corr(score_normalised, others_mean) as agreement_r,
        var_samp(score_normalised + others_mean) / 2 as ms_rows,
        var_samp(score_normalised - others_mean) / 2 as ms_error,
        count(others_mean) * power(avg(score_normalised - others_mean), 2) / 2 as ms_raters,
        count(others_mean) as n_pairs
    from unioned
    group by rater_id, competency_code

),

with_icc as (

    select
        *,
        case
            when n_pairs > 1 and ms_rows + ms_error + 2.0 / n_pairs * (ms_raters - ms_error) > 0
                then (ms_rows - ms_error) / (ms_rows + ms_error + 2.0 / n_pairs * (ms_raters - ms_error))
        end as agreement_icc
    from aggregated

),

final as (

    select
        {{ dbt.hash(dbt.concat(["rater_id", "'|'", "competency_code"])) }} as interviewer_calibration_id,
        rater_id,
        competency_code,
        count_interviews_scored,
        count_interviews,
        {{ is_small_cell('count_interviews') }} as is_suppressed,
        {{ suppress_small('mean_score', 'count_interviews') }} as mean_score,
        {{ suppress_small('leniency', 'count_interviews') }} as leniency,
        {{ suppress_small('score_sd', 'count_interviews') }} as score_sd,
        {{ suppress_small('agreement_r', 'count_interviews') }} as agreement_r,
        {{ suppress_small('agreement_icc', 'count_interviews') }} as agreement_icc,
        coalesce(
            count_interviews >= {{ var('calibration_min_interviews') }}
            and (
                abs(leniency) > {{ var('calibration_max_abs_leniency') }}
                or agreement_r < {{ var('calibration_min_agreement') }}
            ),
            false
        ) as needs_calibration,
        case
            when count_interviews < {{ var('calibration_min_interviews') }} then 'too_few_interviews'
            when leniency > {{ var('calibration_max_abs_leniency') }} then 'lenient'
            when leniency < -{{ var('calibration_max_abs_leniency') }} then 'severe'
            when agreement_r < {{ var('calibration_min_agreement') }} then 'low_agreement'
            else 'ok'
        end as calibration_status
    from with_icc

)

select * from final
