-- Fails when the funnel's overall row for a stage disagrees with a direct count over applications: the
-- expansion into periods and breakdowns must neither lose nor double an application.
with

applications as (

    select * from {{ ref('applications') }}

),

funnel as (

    select * from {{ ref('funnel') }}
    where period_grain = 'all' and dimension = 'all'

),

stages as (

    {{ funnel_stages_relation() }}

),

direct as (

    select
        stages.stage_name,
        sum(case when applications.furthest_stage_order >= stages.stage_order then 1 else 0 end) as n_entered
    from applications
    cross join stages
    group by stages.stage_name

)

select
    direct.stage_name,
    direct.n_entered as expected,
    funnel.n_entered as actual
from direct
left join funnel
    on direct.stage_name = funnel.stage_name
where
    direct.n_entered >= {{ var('min_cell_size') }}
    and (funnel.n_entered is null or funnel.n_entered != direct.n_entered)
