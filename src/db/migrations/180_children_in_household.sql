-- How many children live in the household, when the creditor knows it (a housing corporation
-- from the tenancy, a health insurer from the policy): the rules' `childrenInHousehold` fact.
-- Personal data: retention clears it with the person fields. Without a default, adding the
-- column rewrites nothing.
alter table signals add column children_in_household smallint check (children_in_household between 0 and 30);
