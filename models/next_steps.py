"""What a resident does after a request is accepted, per service: the text shown
under an accepted request. The decision's own reason comes first when it says more."""
from flask_babel import lazy_gettext as _l

AFTER_ACCEPTANCE = {
    "passport": _l("Collect the passport at the passports office, with the originals of the documents "
                   "you attached."),
    "dependents": _l("The change is recorded for the person named in the request; you need do nothing "
                     "more."),
    "iqama_issue": _l("Collect the resident identity (iqama) at the passports office, with the originals "
                      "of the documents you attached."),
    "profession": _l("The new profession is recorded in the person's iqama; you need do nothing more."),
    "visit_extension": _l("The visit visa is extended; the new end date is in the visitor's record. Keep "
                          "the visitor's passport with them."),
    "huroob": _l("The report is corrected or cancelled in the worker's record; you need do nothing more."),
    "iqama_renewal": _l("The iqama is renewed; its new expiry date is in the person's record."),
    "final_exit": _l("The final exit visa is issued: the person leaves the Kingdom before it expires."),
    "transfer": _l("The services are transferred to the new sponsor, who manages them from now on."),
}
GENERAL = _l("The decision takes effect in the directorate's records; you need do nothing more.")


def after_acceptance(service):
    """What happens next once a request for `service` is accepted."""
    return AFTER_ACCEPTANCE.get(service.code, GENERAL)
