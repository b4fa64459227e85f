"""Billing through clerk-backend-api: every billing method the SDK has (`billing.*`, and the subscription and credit
methods of `users` and `organizations`) against the local ledger, with the catalogue of
tests/sdk/billing_catalogue.json applied by `tessera billing apply` before the program runs.

Run by crates/server/tests/sdk.rs with TESSERA_API_URL and TESSERA_SECRET_KEY set. The checks run in order and share
state (later ones use what earlier ones created).
"""

import uuid
from datetime import datetime, timedelta, timezone

from clerk_backend_api import models

from common import Checks, client, expect_error

check = Checks()
clerk = client()
s = {}  # shared state

DAY_MS = 86_400_000


def code_of(e: models.ClerkErrors) -> str:
    return e.data.errors[0].code


def status_of(e: models.ClerkErrors) -> int:
    return e.raw_response.status_code


def all_plans():
    return clerk.billing.list_plans(limit=100).data


def plan(slug: str):
    return next(p for p in all_plans() if p.slug == slug)


def default_price(slug: str):
    prices = clerk.billing.list_prices(plan_id=plan(slug).id, limit=100).data
    return next(p for p in prices if p.is_default)


def new_user(name: str) -> str:
    return clerk.users.create(email_address=[f"{name}-{uuid.uuid4().hex[:8]}@example.com"], first_name=name).id


def user_items(user_id: str):
    return clerk.users.get_billing_subscription(user_id=user_id).subscription_items


def item_of(user_id: str, slug: str):
    return next(i for i in user_items(user_id) if i.plan is not None and i.plan.slug == slug)


def move(item, slug: str):
    """A price transition from the item's price to the default price of plan `slug`."""
    return clerk.billing.create_price_transition(
        subscription_item_id=item.id, from_price_id=item.price_id, to_price_id=default_price(slug).id
    )


@check
def plans_listed_filtered_and_paged():
    """list_plans: the catalogue's plans and the default free plans, by payer type, paged"""
    page = clerk.billing.list_plans(limit=100)
    slugs = {p.slug for p in page.data}
    assert slugs == {"free_user", "free_org", "pro", "plus", "team"}, slugs
    assert page.total_count == 5
    users = clerk.billing.list_plans(payer_type=models.PayerType.USER, limit=100)
    assert {p.slug for p in users.data} == {"free_user", "pro", "plus"}
    assert users.total_count == 3
    orgs = clerk.billing.list_plans(payer_type=models.PayerType.ORG)
    assert {p.slug for p in orgs.data} == {"free_org", "team"}
    first = clerk.billing.list_plans(limit=2, offset=0)
    rest = clerk.billing.list_plans(limit=10, offset=2)
    assert (len(first.data), len(rest.data), first.total_count) == (2, 3, 5)
    assert {p.id for p in first.data}.isdisjoint({p.id for p in rest.data})

    pro = plan("pro")
    assert (pro.name, pro.for_payer_type, pro.is_default, pro.is_recurring) == ("Pro", "user", False, True)
    assert (pro.fee.amount, pro.fee.amount_formatted, pro.fee.currency) == (2000, "20.00", "USD")
    assert (pro.annual_monthly_fee.amount, pro.annual_fee.amount) == (1600, 19200)
    assert pro.free_trial_enabled and pro.free_trial_days == 14
    assert [f.slug for f in pro.features] == ["reports", "exports"]
    free = plan("free_user")
    assert free.is_default and free.fee.amount == 0 and not free.free_trial_enabled


@check
def prices_listed_and_a_custom_price_created():
    """list_prices and create_price: the default price, a custom one, and refused ones"""
    plus = plan("plus")
    listed = clerk.billing.list_prices(plan_id=plus.id)
    assert listed.total_count == 1 and listed.data[0].is_default and listed.data[0].amount == 5000
    custom = clerk.billing.create_price(plan_id=plus.id, amount=4000, description="Friends and family")
    assert (custom.plan_id, custom.amount, custom.is_default, custom.currency) == (plus.id, 4000, False, "USD")
    assert custom.fee.amount_formatted == "40.00"
    s["custom_price"] = custom.id
    listed = clerk.billing.list_prices(plan_id=plus.id)
    # By amount, ascending.
    assert [p.amount for p in listed.data] == [4000, 5000], [p.amount for p in listed.data]
    everything = clerk.billing.list_prices(limit=100)
    assert everything.total_count >= 6 and custom.id in {p.id for p in everything.data}

    e = expect_error(lambda: clerk.billing.create_price(plan_id=plus.id, amount=4000, currency="EUR"), models.ClerkErrors)
    assert (status_of(e), code_of(e)) == (422, "form_param_value_invalid"), e
    e = expect_error(lambda: clerk.billing.create_price(plan_id="cplan_nope", amount=4000), models.ClerkErrors)
    assert status_of(e) == 404, e


@check
def a_new_user_has_the_default_plan():
    """users.get_billing_subscription: a new user is on the free plan; an unknown user is 404"""
    s["trial_user"] = new_user("Trudy")
    sub = clerk.users.get_billing_subscription(user_id=s["trial_user"])
    assert sub.status == models.CommerceSubscriptionStatus.ACTIVE, sub.status
    assert [(i.plan.slug, i.status) for i in sub.subscription_items] == [("free_user", "active")]
    assert sub.subscription_items[0].plan.fee.amount == 0
    e = expect_error(lambda: clerk.users.get_billing_subscription(user_id="user_nope"), models.ClerkErrors)
    assert (status_of(e), code_of(e)) == (404, "resource_not_found"), e


@check
def free_to_pro_starts_a_trial_which_is_extended():
    """create_price_transition free→pro (a trial) and extend_subscription_item_free_trial"""
    t = move(item_of(s["trial_user"], "free_user"), "pro")
    item = t.subscription_item
    assert (item.status, item.is_free_trial, item.plan.slug) == ("active", True, "pro"), item
    assert item.period_end - item.period_start == 14 * DAY_MS
    s["trial_item"] = item.id
    s["trial_end"] = item.period_end
    extend_to = datetime.fromtimestamp(item.period_end / 1000, tz=timezone.utc) + timedelta(days=6)
    extended = clerk.billing.extend_subscription_item_free_trial(subscription_item_id=item.id, extend_to=extend_to)
    assert extended.period_end == item.period_end + 6 * DAY_MS, (extended.period_end, item.period_end)
    assert extended.is_free_trial
    # The same end again changes nothing; an end in the past is refused.
    again = clerk.billing.extend_subscription_item_free_trial(subscription_item_id=item.id, extend_to=extend_to)
    assert again.period_end == extended.period_end
    past = datetime.now(timezone.utc) - timedelta(days=1)
    e = expect_error(
        lambda: clerk.billing.extend_subscription_item_free_trial(subscription_item_id=item.id, extend_to=past),
        models.ClerkErrors,
    )
    assert (status_of(e), code_of(e)) == (422, "form_param_value_invalid"), e
    e = expect_error(
        lambda: clerk.billing.extend_subscription_item_free_trial(subscription_item_id="csubi_nope", extend_to=extend_to),
        models.ClerkErrors,
    )
    assert status_of(e) == 404, e


@check
def free_to_plus_is_charged_at_once():
    """create_price_transition free→plus: active at once, charged, on a statement with its payment attempt"""
    s["paying_user"] = new_user("Paula")
    t = move(item_of(s["paying_user"], "free_user"), "plus")
    item = t.subscription_item
    assert (item.status, item.is_free_trial, item.plan.slug) == ("active", False, "plus")
    s["plus_item"] = item.id
    # The subscription lists live items only: the default item ended.
    items = user_items(s["paying_user"])
    assert [(i.plan.slug, i.status) for i in items] == [("plus", "active")]


@check
def statements_and_payment_attempts():
    """list_statements, get_statement and get_statement_payment_attempts for the checkout charge"""
    page = clerk.billing.list_statements(limit=100)
    assert page.total_count == len(page.data) >= 1
    mine = [st for st in page.data if st.payer.user_id == s["paying_user"]]
    assert len(mine) == 1, [st.payer for st in page.data]
    statement = clerk.billing.get_statement(statement_id=mine[0].id)
    assert statement.id == mine[0].id and statement.status == models.BillingStatementStatus.OPEN
    assert statement.totals.grand_total.amount == 5000, statement.totals
    attempts = clerk.billing.get_statement_payment_attempts(statement_id=statement.id)
    assert attempts.total_count == 1
    a = attempts.data[0]
    assert (a.status, a.charge_type, a.amount.amount) == ("paid", "checkout", 5000), a
    assert a.subscription_item_id == s["plus_item"] and a.payer.user_id == s["paying_user"]
    groups = [p.id for g in statement.groups for p in g.items]
    assert groups == [a.id], groups
    paged = clerk.billing.get_statement_payment_attempts(statement_id=statement.id, limit=1, offset=1)
    assert paged.data == [] and paged.total_count == 1
    e = expect_error(lambda: clerk.billing.get_statement(statement_id="stmt_nope"), models.ClerkErrors)
    assert status_of(e) == 404, e
    e = expect_error(lambda: clerk.billing.get_statement_payment_attempts(statement_id="stmt_nope"), models.ClerkErrors)
    assert status_of(e) == 404, e


@check
def subscription_items_filtered():
    """list_subscription_items: by status, payer type, plan, free items and a query"""
    trials = clerk.billing.list_subscription_items(status=models.GetCommerceSubscriptionItemListQueryParamStatus.FREE_TRIAL)
    assert [i.id for i in trials.data] == [s["trial_item"]]
    active = clerk.billing.list_subscription_items(status=models.GetCommerceSubscriptionItemListQueryParamStatus.ACTIVE, limit=100)
    assert {i.id for i in active.data} == {s["trial_item"], s["plus_item"]}
    with_free = clerk.billing.list_subscription_items(include_free=True, limit=100)
    assert {i.plan.slug for i in with_free.data} >= {"free_user", "pro", "plus"}
    assert with_free.total_count > active.total_count
    by_plan = clerk.billing.list_subscription_items(plan_id=plan("plus").id)
    assert [i.id for i in by_plan.data] == [s["plus_item"]]
    assert clerk.billing.list_subscription_items(payer_type=models.QueryParamPayerType.ORG).total_count == 0
    found = clerk.billing.list_subscription_items(query=s["paying_user"])
    assert [i.id for i in found.data] == [s["plus_item"]]
    assert found.data[0].payer.user_id == s["paying_user"]
    found = clerk.billing.list_subscription_items(query="PRO")
    assert [i.id for i in found.data] == [s["trial_item"]]
    page = clerk.billing.list_subscription_items(include_free=True, limit=1, offset=1)
    assert len(page.data) == 1 and page.total_count == with_free.total_count


@check
def credits_adjusted_idempotently_and_drawn_first():
    """users.adjust_billing_credit_balance / get_billing_credit_balance, then a charge paid from credits"""
    u = new_user("Carla")
    s["credit_user"] = u
    assert clerk.users.get_billing_credit_balance(user_id=u).balance is None
    key = f"welcome-{uuid.uuid4()}"
    entry = clerk.users.adjust_billing_credit_balance(
        user_id=u, amount=10_000, action=models.Action.INCREASE, idempotency_key=key, note="welcome"
    )
    assert (entry.amount.amount, entry.note, entry.source_type) == (10_000, "welcome", "adjustment")
    assert isinstance(entry.created_at, datetime) and entry.created_at.tzinfo is not None, entry.created_at
    again = clerk.users.adjust_billing_credit_balance(
        user_id=u, amount=10_000, action=models.Action.INCREASE, idempotency_key=key, note="welcome"
    )
    assert again.id == entry.id
    e = expect_error(
        lambda: clerk.users.adjust_billing_credit_balance(
            user_id=u, amount=1, action=models.Action.INCREASE, idempotency_key=key
        ),
        models.ClerkErrors,
    )
    assert (status_of(e), code_of(e)) == (409, "conflict"), e
    taken = clerk.users.adjust_billing_credit_balance(
        user_id=u, amount=500, action=models.Action.DECREASE, idempotency_key=f"fix-{uuid.uuid4()}", currency="USD"
    )
    assert taken.amount.amount == -500
    e = expect_error(
        lambda: clerk.users.adjust_billing_credit_balance(
            user_id=u, amount=1_000_000, action=models.Action.DECREASE, idempotency_key=f"big-{uuid.uuid4()}"
        ),
        models.ClerkErrors,
    )
    assert (status_of(e), code_of(e)) == (422, "insufficient_credit_balance"), e
    assert clerk.users.get_billing_credit_balance(user_id=u).balance.amount == 9_500

    # Checkout of plus ($50) is paid from the credits first.
    move(item_of(u, "free_user"), "plus")
    assert clerk.users.get_billing_credit_balance(user_id=u).balance.amount == 4_500
    e = expect_error(lambda: clerk.users.get_billing_credit_balance(user_id="user_nope"), models.ClerkErrors)
    assert status_of(e) == 404, e


@check
def paid_to_paid_waits_for_the_period_end():
    """create_price_transition plus→pro: the current item is canceled and pro is upcoming at the period's end"""
    u = s["credit_user"]
    current = item_of(u, "plus")
    t = move(current, "pro")
    assert t.subscription_item.status == "upcoming" and t.subscription_item.plan.slug == "pro"
    assert t.subscription_item.period_start == current.period_end
    assert item_of(u, "plus").status == "canceled"
    # from_price_id must be the item's current price.
    e = expect_error(
        lambda: clerk.billing.create_price_transition(
            subscription_item_id=current.id, from_price_id=s["custom_price"], to_price_id=default_price("pro").id
        ),
        models.ClerkErrors,
    )
    assert (status_of(e), code_of(e)) == (422, "form_param_value_invalid"), e


@check
def items_canceled_at_period_end_and_now():
    """cancel_subscription_item: at the period's end (default), then now (end_now)"""
    item = clerk.billing.cancel_subscription_item(subscription_item_id=s["plus_item"])
    assert item.status == "canceled" and item.canceled_at is not None, item
    upcoming = item_of(s["paying_user"], "free_user")
    assert (upcoming.status, upcoming.period_start) == ("upcoming", item.period_end)
    ended = clerk.billing.cancel_subscription_item(subscription_item_id=s["plus_item"], end_now=True)
    assert ended.status == "ended" and ended.ended_at is not None
    assert item_of(s["paying_user"], "free_user").status == "active"
    e = expect_error(lambda: clerk.billing.cancel_subscription_item(subscription_item_id=s["plus_item"]), models.ClerkErrors)
    assert status_of(e) == 422, e
    free = item_of(s["paying_user"], "free_user")
    e = expect_error(lambda: clerk.billing.cancel_subscription_item(subscription_item_id=free.id), models.ClerkErrors)
    assert (status_of(e), code_of(e)) == (422, "billing_invalid_state"), e
    e = expect_error(lambda: clerk.billing.cancel_subscription_item(subscription_item_id="csubi_nope"), models.ClerkErrors)
    assert status_of(e) == 404, e


@check
def organizations_have_subscriptions_and_credits():
    """organizations.get_billing_subscription / get_billing_credit_balance / adjust_billing_credit_balance"""
    clerk.instance_settings.update_organization_settings(request={"enabled": True})
    owner = new_user("Olga")
    org = clerk.organizations.create(request={"name": "Billing Org", "created_by": owner})
    sub = clerk.organizations.get_billing_subscription(organization_id=org.id)
    assert [(i.plan.slug, i.status) for i in sub.subscription_items] == [("free_org", "active")]
    assert clerk.organizations.get_billing_credit_balance(organization_id=org.id).balance is None
    entry = clerk.organizations.adjust_billing_credit_balance(
        organization_id=org.id, amount=2_500, action=models.Action.INCREASE, idempotency_key="org-credit"
    )
    assert entry.amount.amount == 2_500 and entry.payer_id == sub.payer_id
    assert clerk.organizations.get_billing_credit_balance(organization_id=org.id).balance.amount == 2_500
    # The organization moves to team ($100): $25 of credits, then the local payment method.
    free = sub.subscription_items[0]
    t = clerk.billing.create_price_transition(
        subscription_item_id=free.id, from_price_id=free.price_id, to_price_id=default_price("team").id
    )
    assert t.subscription_item.status == "active" and t.subscription_item.plan.slug == "team"
    assert clerk.organizations.get_billing_credit_balance(organization_id=org.id).balance.amount == 0
    orgs = clerk.billing.list_subscription_items(payer_type=models.QueryParamPayerType.ORG)
    assert [i.id for i in orgs.data] == [t.subscription_item.id]
    assert orgs.data[0].payer.organization_id == org.id
    e = expect_error(lambda: clerk.organizations.get_billing_subscription(organization_id="org_nope"), models.ClerkErrors)
    assert status_of(e) == 404, e
    e = expect_error(
        lambda: clerk.organizations.adjust_billing_credit_balance(
            organization_id="org_nope", amount=1, action=models.Action.INCREASE, idempotency_key="x"
        ),
        models.ClerkErrors,
    )
    assert status_of(e) == 404, e


if __name__ == "__main__":
    check.run()
