-- A sign-up made with an invitation's ticket (`strategy=ticket`) names the invitation (instance `inv_…` or
-- organization `orginv_…`): converting the sign-up accepts it in the same transaction, as long as the sign-up
-- still has the invited e-mail address. Tickets themselves are signed, not stored.
ALTER TABLE sign_ups ADD COLUMN invitation_id TEXT;
