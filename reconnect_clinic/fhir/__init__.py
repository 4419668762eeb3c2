"""HL7 FHIR R4 records of everything a partner answered: the intake's pages and every
administration of a validated measure, as one Bundle per partner (see ``builders``)."""
