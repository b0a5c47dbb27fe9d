{#- One row per application that received an offer: the latest offer, how long it took from the application,
    and the answer (an acceptance or decline dated at or after that offer; else pending). -#}
with

applications as (

    select * from {{ ref('applications') }}

),

final as (

    select
        application_id,
        candidate_key,
        requisition_id,
        job_family,
        department,
        requisition_region,
        candidate_region,
        source_channel,
        applied_at,
        offer_made_at,
        count_offers,
        case
            when offer_accepted_at >= offer_made_at then 'accepted'
            when offer_declined_at >= offer_made_at then 'declined'
            else 'pending'
        end as offer_status,
        case when offer_accepted_at >= offer_made_at then offer_accepted_at end as offer_accepted_at,
        case when offer_declined_at >= offer_made_at then offer_declined_at end as offer_declined_at,
        hired_at,
        days_to_offer,
        case
            when offer_accepted_at >= offer_made_at
                then {{ days_between('offer_made_at', 'offer_accepted_at') }}
            when offer_declined_at >= offer_made_at
                then {{ days_between('offer_made_at', 'offer_declined_at') }}
        end as days_to_response
    from applications
    where offer_made_at is not null

)

select * from final
