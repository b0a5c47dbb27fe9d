-- Fails when a candidate has more than one row for a job family in the applicant pool: the weight model would
-- count them twice in the pool's score SDs and the fairness gate twice in a group's selection rate.
with

pool as (

    select * from {{ ref('applicant_pool') }}

)

select
    candidate_key,
    job_family,
    count(*) as n_rows
from pool
group by candidate_key, job_family
having count(*) > 1
