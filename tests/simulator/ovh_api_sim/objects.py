"""The objects as the API shows them when first created (mailboxes, domains), and the API's dates.

Used by the seed (start-up world) and the backend (clock values); imports neither.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

try:  # OVH answers in Paris local time, with an offset (e.g. +02:00).
    API_TZ = ZoneInfo("Europe/Paris")
except Exception:  # pragma: no cover - systems without tzdata
    API_TZ = dt.timezone.utc


def iso(timestamp):
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, API_TZ).isoformat(timespec="seconds")


def _stable_guid(text):
    digest = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - identifiers, not security
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def new_account(address, account_id, now_iso, **fields):
    """A mailbox as GET returns it; `fields` override the defaults (seed values)."""
    login, dummy_at, domain = address.partition("@")
    first = fields.pop("firstName", login.capitalize())
    account = {
        "SAMAccountName": f"{login[:15]}", "accountLicense": "standard", "authenticationPolicyId": None,
        "city": None, "company": None, "configured": True, "countryCode": None, "creationDate": now_iso,
        "currentUsage": 0, "customIsolationId": None, "deleteAtExpiration": None,
        "deleteOutlookAtExpiration": None, "description": None, "displayName": first, "domain": domain,
        "exchangeGuid": _stable_guid("exchange" + address), "expirationDate": None,
        "expirationOutlookDate": None, "fax": None, "firstName": first, "forwardingEmail": None,
        "guid": _stable_guid(address), "hiddenFromGAL": False, "id": account_id, "initial": None,
        "jobDepartment": None, "jobTitle": None, "lastLogoffDate": None, "lastLogonDate": None,
        "lastName": None, "lastUpdateDate": None, "litigation": False, "litigationPeriod": None,
        "login": login, "mailSenderDisplay": None, "mailingFilter": ["vaderetro"], "mobile": None,
        "numberOfAliases": 0, "office": None, "outlookLicense": False, "owaLimited": False,
        "passwordLastUpdate": now_iso, "phone": None, "postalCode": None, "primaryEmailAddress": address,
        "quota": 50, "region": None, "renewOutlookPeriod": None, "renewPeriod": "yearly",
        "sbrDestination": None, "sendConnectorId": None,
        "spamAndVirusConfiguration": {"checkDKIM": True, "checkSPF": True, "deleteSpam": False,
                                      "deleteVirus": True, "putInJunk": True, "tagSpam": True,
                                      "tagVirus": True},
        "spamDetected": False, "spamTicketNumber": None, "state": "ok", "storeCopyOfEmail": False,
        "streetAddress": None, "taskPendingId": 0,
    }
    account.update(fields)
    return account


def new_domain(name, platform, **fields):
    domain = {
        "cnameToCheck": None, "dkimDiagnostics": {"errorCode": None, "message": None, "state": "disabled"},
        "domainAliases": [], "domainValidated": True, "expectedAutodiscoverSRV": f"0 0 443 {platform}.mail.ovh.net",
        "expectedMX": ["mx0.mail.ovh.net", "mx1.mail.ovh.net"], "expectedSPF": "v=spf1 include:mx.ovh.com ~all",
        "isAliasDomain": False, "main": False, "mxIsValid": True, "mxRecord": ["mx0.mail.ovh.net"],
        "mxRelay": None, "name": name, "organization2010": None, "sbrDefault": None,
        "sendConnectorIdDefault": None, "spfIsValid": True, "spfRecord": ["v=spf1 include:mx.ovh.com ~all"],
        "srvIsValid": True, "srvRecord": [f"0 0 443 {platform}.mail.ovh.net"], "state": "ok",
        "taskPendingId": 0, "type": "authoritative",
    }
    domain.update(fields)
    return domain
