# <zone_id>/<recordset_id> (openstack recordset list example.com.). What the name pointed at
# before the takeover is read back from the record set's description.
terraform import eventscale_dns_record.www 7a49d583-7862-4667-b04b-4af28eb48fb7/f21edd6c-1042-42cb-a2c7-0402600b3db1
