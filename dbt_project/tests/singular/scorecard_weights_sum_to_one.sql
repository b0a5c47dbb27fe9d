-- Fails when a weight version of a job family does not sum to 1 (within rounding of the seed's 1/6 values):
-- an approved or edited decision with weights that are not a distribution would silently rescale composites.
with

weights as (

    select * from {{ ref('int_scorecard_weights_history') }}

),

totals as (

    select
        job_family,
        valid_from,
        sum(weight) as total_weight
    from weights
    group by job_family, valid_from

)

select * from totals
where abs(total_weight - 1.0) > 0.001
