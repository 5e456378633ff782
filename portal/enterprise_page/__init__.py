"""The public enterprise page (issue 21): a page above the domains that composes registry, credit standing, 环保码,
lists, monitoring, disclosures and complaints, with the verdict first."""
