"""The models the simulator serves, written from the public OVH schema (email.exchange.*).

Each field is (type, can_be_null, read_only). Types are the schema's names: `long`, `boolean`,
`string`, `password`, `phoneNumber`, `datetime`, an enum name, or a name followed by `[]`.
"""
from __future__ import annotations

ENUMS = {
    "smartHostAuthMechanismEnum": ("basicAuth", "basicAuthRequireTLS", "none"),
    "TaskStatusEnum": ("cancelled", "doing", "done", "error", "todo"),
    "ObjectStateEnum": ("creating", "deleting", "internalMigration", "ok", "reopening", "suspended", "suspending"),
    "OvhLicenceEnum": ("basic", "enterprise", "standard"),
    "renewPeriodEnum": ("monthly", "yearly"),
    "MailingFilterEnum": ("vaderetro",),
    "DomainTypeEnum": ("authoritative", "nonAuthoritative"),
    "ServiceOfferEnum": ("dedicated", "dedicatedCluster", "hosted", "provider"),
    "ServiceStateEnum": ("inMaintenance", "ok", "suspended"),
    # Only the functions the simulator can create; the schema lists 116.
    "TaskFunctionEnum": (
        "addSendConnector", "setSendConnector", "deleteSendConnector", "setAccount", "setDomain",
    ),
}

SPAM_AND_VIRUS = {name: ("boolean", False, False) for name in (
    "checkDKIM", "checkSPF", "deleteSpam", "deleteVirus", "putInJunk", "tagSpam", "tagVirus")}

SEND_CONNECTOR = {
    "creationDate": ("datetime", False, True),
    "default": ("boolean", False, True),
    "displayName": ("string", False, False),
    "dnsRouting": ("boolean", False, False),
    "id": ("long", True, True),
    "lastUpdateDate": ("datetime", True, True),
    "maxSendSize": ("long", False, False),
    "port": ("long", False, False),
    "requireTLS": ("boolean", False, False),
    "smartHost": ("string", True, False),
    "smartHostAuthMechanism": ("smartHostAuthMechanismEnum", False, True),
    "state": ("ObjectStateEnum", False, True),
    "taskPendingId": ("long", True, True),
}

# POST .../sendConnector body: (type, required)
SEND_CONNECTOR_CREATE = {
    "displayName": ("string", True),
    "smartHost": ("string", True),
    "maxSendSize": ("long", False),
    "port": ("long", False),
    "requireTLS": ("boolean", False),
    "smartHostAuthMechanism": ("smartHostAuthMechanismEnum", False),
    "user": ("string", False),
    "password": ("password", False),
}

CHANGE_AUTHENTICATION = {
    "smartHostAuthMechanism": ("smartHostAuthMechanismEnum", False),
    "user": ("string", False),
    "password": ("password", False),
}

CHANGE_DEFAULT_SBR = {
    "sbrDefault": ("string", False),
    "sendConnectorIdDefault": ("long", False),
}


_ACCOUNT_NULLABLE_STRINGS = (
    "city", "company", "description", "displayName", "firstName", "forwardingEmail", "initial",
    "jobDepartment", "jobTitle", "lastName", "mailSenderDisplay", "office", "postalCode", "region",
    "streetAddress", "sbrDestination",
)
ACCOUNT = {
    **{name: ("string", True, False) for name in _ACCOUNT_NULLABLE_STRINGS},
    **{name: ("phoneNumber", True, False) for name in ("fax", "mobile", "phone")},
    **{name: ("boolean", False, False) for name in ("hiddenFromGAL", "litigation", "outlookLicense", "storeCopyOfEmail")},
    **{name: ("boolean", True, False) for name in ("deleteAtExpiration", "deleteOutlookAtExpiration")},
    **{name: ("datetime", True, True) for name in (
        "creationDate", "expirationDate", "expirationOutlookDate", "lastLogoffDate", "lastLogonDate",
        "lastUpdateDate", "passwordLastUpdate")},
    "accountLicense": ("OvhLicenceEnum", False, False),
    "authenticationPolicyId": ("long", True, False),
    "countryCode": ("CountryCodeEnum", True, False),
    "domain": ("string", False, False),
    "login": ("string", False, False),
    "litigationPeriod": ("long", True, False),
    "mailingFilter": ("MailingFilterEnum[]", True, False),
    "quota": ("long", False, False),
    "renewOutlookPeriod": ("renewPeriodEnum", True, False),
    "renewPeriod": ("renewPeriodEnum", True, False),
    "sendConnectorId": ("long", True, False),
    "spamAndVirusConfiguration": ("spamAndVirusConfiguration", False, False),
    "SAMAccountName": ("string", True, True),
    "configured": ("boolean", False, True),
    "currentUsage": ("long", True, True),
    "customIsolationId": ("long", True, True),
    "exchangeGuid": ("string", True, True),
    "guid": ("string", True, True),
    "id": ("long", False, True),
    "numberOfAliases": ("long", False, True),
    "owaLimited": ("boolean", False, True),
    "primaryEmailAddress": ("string", False, True),
    "spamDetected": ("boolean", False, True),
    "spamTicketNumber": ("long", True, True),
    "state": ("ObjectStateEnum", False, True),
    "taskPendingId": ("long", True, True),
}

DOMAIN = {
    "cnameToCheck": ("string", True, True),
    "dkimDiagnostics": ("DomainDkimDiagnostics", False, True),
    "domainAliases": ("string[]", False, True),
    "domainValidated": ("boolean", False, True),
    "expectedAutodiscoverSRV": ("string", False, True),
    "expectedMX": ("string[]", False, True),
    "expectedSPF": ("string", False, True),
    "isAliasDomain": ("boolean", False, True),
    "main": ("boolean", True, True),
    "mxIsValid": ("boolean", False, True),
    "mxRecord": ("string[]", True, True),
    "mxRelay": ("string", True, False),
    "name": ("string", False, True),
    "organization2010": ("string", True, True),
    "sbrDefault": ("string", True, True),
    "sendConnectorIdDefault": ("long", True, True),
    "spfIsValid": ("boolean", False, True),
    "spfRecord": ("string[]", True, True),
    "srvIsValid": ("boolean", False, True),
    "srvRecord": ("string[]", True, True),
    "state": ("ObjectStateEnum", False, True),
    "taskPendingId": ("long", False, True),
    "type": ("DomainTypeEnum", False, False),
}

# ISO 3166 alpha-2 codes are long; the simulator accepts any two upper-case letters (a guess-free
# superset: the real list also holds AC, DG, EA, IC, TA and XK, which this accepts too).
COUNTRY_CODE_LENGTH = 2


def type_ok(value, type_name) -> bool:
    """Whether a JSON value fits a schema type (nullability is checked by the caller)."""
    if type_name.endswith("[]"):
        return isinstance(value, list) and all(type_ok(item, type_name[:-2]) for item in value)
    if type_name == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name in ("string", "password", "phoneNumber", "datetime"):
        return isinstance(value, str)
    if type_name in ENUMS:
        return value in ENUMS[type_name]
    if type_name == "CountryCodeEnum":
        return isinstance(value, str) and len(value) == COUNTRY_CODE_LENGTH and value.isalpha() and value.isupper()
    if type_name == "spamAndVirusConfiguration":
        return isinstance(value, dict) and all(k in SPAM_AND_VIRUS and isinstance(v, bool) for k, v in value.items())
    return False
