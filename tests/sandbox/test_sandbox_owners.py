"""HubSpot owners: a deactivated user's owner is archived, listed only when archived owners are asked for."""

from __future__ import annotations


def test_a_deactivated_owner_leaves_the_active_list_and_shows_as_archived(hubspot_sandbox, hubspot_client):
    owners = hubspot_client.crm.owners.owners_api
    people = [o for o in owners.get_page(limit=100).results if o.type == "PERSON"]
    gone = people[0]
    hubspot_sandbox.app.deactivate_owner(gone.id)
    active = {o.id for o in owners.get_page(limit=100).results}
    assert gone.id not in active and people[1].id in active
    [archived] = owners.get_page(limit=100, archived=True).results
    assert (archived.id, archived.archived, archived.user_id) == (gone.id, True, None)
    assert archived.user_id_including_inactive == gone.user_id
