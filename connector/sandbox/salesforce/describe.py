"""``GET sobjects/<Type>/describe``: the schema rendered the way Salesforce describes an object."""

from __future__ import annotations

from typing import Any

from connector.sandbox.salesforce.schema import Field, SObject

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "address": "urn:address",
}
_CASCADE_CHILDREN = ("CampaignMember", "LeadHistory")


def describe_field(field: Field) -> dict[str, Any]:
    """One entry of ``fields``."""
    text = field.is_text and field.type not in ("id", "reference")
    length = field.length if text else (18 if field.type in ("id", "reference") else 0)
    picklist = [
        {"active": True, "defaultValue": value == field.default, "label": value, "validFor": None, "value": value}
        for value in field.picklist
    ]
    return {
        "aggregatable": field.type not in ("textarea", "address"),
        "autoNumber": False,
        "byteLength": length * 3 if text else length,
        "calculated": field.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": "Address"
        if field.name
        in ("Street", "City", "State", "PostalCode", "Country", "Latitude", "Longitude", "GeocodeAccuracy")
        else None,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": field.default if field.type != "boolean" else False,
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": field.precision if field.type == "int" else 0,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": None,
        "filterable": field.type != "address" and not (field.type == "textarea" and field.length > 255),
        "filteredLookupInfo": None,
        "groupable": field.type not in ("double", "currency", "textarea", "address", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.id_lookup,
        "inlineHelpText": None,
        "label": field.label,
        "length": length,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name == "Name",
        "namePointing": len(field.reference_to) > 1,
        "nillable": field.nillable,
        "permissionable": field.nillable and field.createable,
        "picklistValues": picklist,
        "polymorphicForeignKey": len(field.reference_to) > 1,
        "precision": field.precision if field.type not in ("int",) else 0,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted,
        "scale": field.scale,
        "searchPrefilterable": field.type == "reference",
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": field.type != "address" and not (field.type == "textarea" and field.length > 255),
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def describe_sobject(sobject: SObject, version: str, host: str) -> dict[str, Any]:
    """The whole describe of one object."""
    base = f"/services/data/{version}/sobjects/{sobject.name}"
    ui = f"https://{host}"
    return {
        "actionOverrides": [],
        "activateable": False,
        "childRelationships": [
            {
                "cascadeDelete": child in _CASCADE_CHILDREN,
                "childSObject": child,
                "deprecatedAndHidden": False,
                "field": field,
                "junctionIdListNames": [],
                "junctionReferenceTo": [],
                "relationshipName": name,
                "restrictedDelete": False,
            }
            for child, field, name in sobject.children
        ],
        "compactLayoutable": True,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": sobject.name in ("Lead", "Contact", "Campaign"),
        "fields": [describe_field(f) for f in sobject.fields],
        "hasSubtypes": False,
        "isSubtype": False,
        "keyPrefix": sobject.prefix,
        "label": sobject.label,
        "labelPlural": sobject.plural,
        "layoutable": True,
        "listviewable": None,
        "lookupLayoutable": None,
        "mergeable": sobject.name in ("Lead", "Contact"),
        "mruEnabled": True,
        "name": sobject.name,
        "namedLayoutInfos": [],
        "networkScopeFieldName": None,
        "queryable": True,
        "recordTypeInfos": [
            {
                "active": True,
                "available": True,
                "defaultRecordTypeMapping": True,
                "master": True,
                "name": "Master",
                "recordTypeId": "012000000000000AAA",
                "urls": {"layout": f"{base}/describe/layouts/012000000000000AAA"},
            }
        ],
        "replicateable": True,
        "retrieveable": True,
        "searchLayoutable": True,
        "searchable": True,
        "sobjectDescribeOption": "FULL",
        "supportedScopes": [
            {"label": f"All {sobject.plural.lower()}", "name": "everything"},
            {"label": f"My {sobject.plural.lower()}", "name": "mine"},
        ],
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "rowTemplate": f"{base}/{{ID}}",
            "approvalLayouts": f"{base}/describe/approvalLayouts",
            "uiDetailTemplate": f"{ui}/{{ID}}",
            "uiEditTemplate": f"{ui}/{{ID}}/e",
            "listviews": f"{base}/listviews",
            "describe": f"{base}/describe",
            "uiNewRecord": f"{ui}/{sobject.prefix}/e",
            "quickActions": f"{base}/quickActions",
            "layouts": f"{base}/describe/layouts",
            "sobject": base,
        },
    }
