-- Billing: a local ledger without a payment processor (issue 14). The catalogue (features, plans, prices,
-- discounts) is written by the `tessera billing` commands; payers, subscriptions, items, credits, statements and
-- payment attempts by the Backend API and the billing clock. Amounts are integer cents, USD only.

-- Per instance: which payer types have billing, and how the local payment method settles charges.
CREATE TABLE billing_config (
    instance_id   TEXT PRIMARY KEY REFERENCES instances(id) ON DELETE CASCADE,
    user_enabled  BOOLEAN NOT NULL,
    org_enabled   BOOLEAN NOT NULL,
    -- false: charges the payer's credits do not cover fail (the `past_due` flows); true: they are paid.
    payments_succeed BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE billing_features (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_features_slug ON billing_features(instance_id, slug);

CREATE TABLE billing_plans (
    id               TEXT PRIMARY KEY,
    instance_id      TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    product_id       TEXT NOT NULL,
    payer_type       TEXT NOT NULL,
    slug             TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    avatar_url       TEXT,
    is_default       BOOLEAN NOT NULL,
    publicly_visible BOOLEAN NOT NULL,
    -- NULL: no free trial.
    free_trial_days  BIGINT,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_plans_slug ON billing_plans(instance_id, slug);
CREATE UNIQUE INDEX billing_plans_default ON billing_plans(instance_id, payer_type) WHERE is_default;

CREATE TABLE billing_plan_features (
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    plan_id     TEXT NOT NULL REFERENCES billing_plans(id) ON DELETE CASCADE,
    feature_id  TEXT NOT NULL REFERENCES billing_features(id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    PRIMARY KEY (plan_id, feature_id)
);

-- A plan's own fee is its default price; custom prices (POST /billing/prices) are the others.
CREATE TABLE billing_prices (
    id                    TEXT PRIMARY KEY,
    instance_id           TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    plan_id               TEXT NOT NULL REFERENCES billing_plans(id) ON DELETE CASCADE,
    amount                BIGINT NOT NULL,
    annual_monthly_amount BIGINT NOT NULL,
    description           TEXT,
    is_default            BOOLEAN NOT NULL,
    billing_periods       TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);
CREATE INDEX billing_prices_plan ON billing_prices(plan_id, amount);
CREATE UNIQUE INDEX billing_prices_default ON billing_prices(plan_id) WHERE is_default;

CREATE TABLE billing_discounts (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    slug        TEXT NOT NULL,
    name        TEXT NOT NULL,
    -- percentage | fixed_amount
    effect      TEXT NOT NULL,
    percent_off BIGINT,
    amount_off  BIGINT,
    -- NULL: forever.
    cycles      BIGINT,
    promo_code  TEXT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_discounts_slug ON billing_discounts(instance_id, slug);

-- A user or an organization that has (or had) a subscription or credits.
CREATE TABLE billing_payers (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    user_id         TEXT REFERENCES users(id) ON DELETE CASCADE,
    organization_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    -- NULL: never had credits.
    credit_balance  BIGINT,
    trial_used      BOOLEAN NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_payers_user ON billing_payers(instance_id, user_id);
CREATE UNIQUE INDEX billing_payers_org ON billing_payers(instance_id, organization_id);

CREATE TABLE billing_subscriptions (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    payer_id    TEXT NOT NULL UNIQUE REFERENCES billing_payers(id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    active_at   BIGINT,
    past_due_at BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE billing_items (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    subscription_id TEXT NOT NULL REFERENCES billing_subscriptions(id) ON DELETE CASCADE,
    payer_id        TEXT NOT NULL REFERENCES billing_payers(id) ON DELETE CASCADE,
    plan_id         TEXT NOT NULL REFERENCES billing_plans(id),
    price_id        TEXT NOT NULL REFERENCES billing_prices(id),
    plan_period     TEXT NOT NULL,
    status          TEXT NOT NULL,
    is_free_trial   BOOLEAN NOT NULL,
    -- The trial's end was announced (subscriptionItem.freeTrialEnding).
    trial_warned    BOOLEAN NOT NULL,
    period_start    BIGINT NOT NULL,
    period_end      BIGINT,
    canceled_at     BIGINT,
    past_due_at     BIGINT,
    ended_at        BIGINT,
    lifetime_paid   BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX billing_items_payer ON billing_items(payer_id, created_at);
CREATE INDEX billing_items_instance ON billing_items(instance_id, created_at);
CREATE INDEX billing_items_due ON billing_items(status, period_end);

CREATE TABLE billing_redemptions (
    id             TEXT PRIMARY KEY,
    instance_id    TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    item_id        TEXT NOT NULL REFERENCES billing_items(id) ON DELETE CASCADE,
    discount_id    TEXT NOT NULL REFERENCES billing_discounts(id) ON DELETE CASCADE,
    -- active | exhausted | removed
    status         TEXT NOT NULL,
    cycles_applied BIGINT NOT NULL,
    redeemed_at    BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_redemptions_active ON billing_redemptions(item_id) WHERE status = 'active';

CREATE TABLE billing_credit_ledger (
    id              TEXT PRIMARY KEY,
    instance_id     TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    payer_id        TEXT NOT NULL REFERENCES billing_payers(id) ON DELETE CASCADE,
    -- Signed cents: positive adds to the balance.
    amount          BIGINT NOT NULL,
    source_type     TEXT NOT NULL,
    source_id       TEXT NOT NULL,
    note            TEXT,
    idempotency_key TEXT,
    -- Digest of the request an idempotency key was first used with (a different request under it is a conflict).
    request_digest  TEXT,
    created_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_credit_ledger_key ON billing_credit_ledger(payer_id, idempotency_key);

-- One statement per payer and calendar month (UTC) of charges; closed once the month is over.
CREATE TABLE billing_statements (
    id          TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    payer_id    TEXT NOT NULL REFERENCES billing_payers(id) ON DELETE CASCADE,
    -- Unix ms of the month's first instant; the month ends at `period_end`.
    timestamp   BIGINT NOT NULL,
    period_end  BIGINT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX billing_statements_month ON billing_statements(payer_id, timestamp);
CREATE INDEX billing_statements_instance ON billing_statements(instance_id, timestamp);

CREATE TABLE billing_payment_attempts (
    id           TEXT PRIMARY KEY,
    instance_id  TEXT NOT NULL REFERENCES instances(id) ON DELETE CASCADE,
    payer_id     TEXT NOT NULL REFERENCES billing_payers(id) ON DELETE CASCADE,
    statement_id TEXT NOT NULL REFERENCES billing_statements(id) ON DELETE CASCADE,
    item_id      TEXT REFERENCES billing_items(id) ON DELETE SET NULL,
    -- checkout | recurring
    charge_type  TEXT NOT NULL,
    -- card (the local payment method) | payer-credits (credits covered all of it)
    payment_type TEXT NOT NULL,
    subtotal     BIGINT NOT NULL,
    discount     BIGINT NOT NULL,
    credits      BIGINT NOT NULL,
    -- What the payment method is charged: subtotal - discount - credits.
    amount       BIGINT NOT NULL,
    status       TEXT NOT NULL,
    paid_at      BIGINT,
    failed_at    BIGINT,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX billing_payment_attempts_statement ON billing_payment_attempts(statement_id, created_at);

-- The billing clock runs on one node at a time: the holder of this lease.
CREATE TABLE billing_clock_lease (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
