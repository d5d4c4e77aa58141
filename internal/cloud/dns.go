package cloud

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/recordsets"
	"github.com/gophercloud/gophercloud/v2/openstack/dns/v2/zones"
)

// Zone is what the provider reads of a Designate zone.
type Zone struct {
	ID        string
	Name      string
	Type      string // PRIMARY or SECONDARY
	Status    string // ACTIVE, PENDING, ERROR
	Action    string // CREATE, UPDATE, DELETE, NONE
	Serial    int
	TTL       int
	Masters   []string
	ProjectID string
}

func zoneInfo(z *zones.Zone) *Zone {
	return &Zone{ID: z.ID, Name: z.Name, Type: z.Type, Status: z.Status, Action: z.Action, Serial: z.Serial, TTL: z.TTL,
		Masters: z.Masters, ProjectID: z.ProjectID}
}

// RecordSet is what the provider reads of a Designate record set. TTL 0 means the zone's.
type RecordSet struct {
	ID          string
	ZoneID      string
	ZoneName    string
	Name        string
	Type        string
	Records     []string
	TTL         int
	Description string
	Status      string // ACTIVE, PENDING, ERROR
}

func recordSetInfo(rs *recordsets.RecordSet) *RecordSet {
	return &RecordSet{ID: rs.ID, ZoneID: rs.ZoneID, ZoneName: rs.ZoneName, Name: rs.Name, Type: rs.Type, Records: rs.Records,
		TTL: rs.TTL, Description: rs.Description, Status: rs.Status}
}

// DNS manages record sets with Designate v2.
type DNS struct {
	Client *gophercloud.ServiceClient
	Poll   Poll
}

// DNS returns the Designate adapter.
func (c *Client) DNS(ctx context.Context) (*DNS, error) {
	sc, err := c.ServiceClient(ctx, ServiceDNS)
	if err != nil {
		return nil, err
	}
	return &DNS{Client: sc, Poll: c.Poll()}, nil
}

// FindZone returns the zone of that name visible to the project, or nil.
func (d *DNS) FindZone(ctx context.Context, name string) (*Zone, error) {
	pages, err := zones.List(d.Client, zones.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, apiError("looking up zone "+name, err)
	}
	all, err := zones.ExtractZones(pages)
	if err != nil {
		return nil, apiError("reading the zone list", err)
	}
	for i := range all {
		if strings.EqualFold(all[i].Name, name) {
			return zoneInfo(&all[i]), nil
		}
	}
	return nil, nil
}

// GetZone reads one zone; a 404 satisfies IsNotFound.
func (d *DNS) GetZone(ctx context.Context, id string) (*Zone, error) {
	z, err := zones.Get(ctx, d.Client, id).Extract()
	if err != nil {
		return nil, apiError("reading zone "+id, err)
	}
	return zoneInfo(z), nil
}

// RecordSetsNamed lists the zone's record sets of a name, of every type.
func (d *DNS) RecordSetsNamed(ctx context.Context, zoneID, name string) ([]RecordSet, error) {
	pages, err := recordsets.ListByZone(d.Client, zoneID, recordsets.ListOpts{Name: name}).AllPages(ctx)
	if err != nil {
		return nil, apiError(fmt.Sprintf("listing the record sets named %s in zone %s", name, zoneID), err)
	}
	all, err := recordsets.ExtractRecordSets(pages)
	if err != nil {
		return nil, apiError("reading the record set list", err)
	}
	var out []RecordSet
	for i := range all {
		if strings.EqualFold(all[i].Name, name) {
			out = append(out, *recordSetInfo(&all[i]))
		}
	}
	return out, nil
}

// FindRecordSet returns the zone's record set of name and type, or nil.
func (d *DNS) FindRecordSet(ctx context.Context, zoneID, name, recordType string) (*RecordSet, error) {
	all, err := d.RecordSetsNamed(ctx, zoneID, name)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if all[i].Type == recordType {
			return &all[i], nil
		}
	}
	return nil, nil
}

// GetRecordSet reads one record set; a 404 satisfies IsNotFound.
func (d *DNS) GetRecordSet(ctx context.Context, zoneID, id string) (*RecordSet, error) {
	rs, err := recordsets.Get(ctx, d.Client, zoneID, id).Extract()
	if err != nil {
		return nil, apiError("reading record set "+id, err)
	}
	return recordSetInfo(rs), nil
}

// CreateRecordSet creates a record set; ttl 0 leaves it to the zone. The POST is sent once.
func (d *DNS) CreateRecordSet(ctx context.Context, zoneID, name, recordType string, records []string, ttl int, description string) (*RecordSet, error) {
	rs, err := recordsets.Create(ctx, d.Client, zoneID, recordsets.CreateOpts{
		Name: name, Type: recordType, Records: records, TTL: ttl, Description: description,
	}).Extract()
	if err != nil {
		return nil, createError(fmt.Sprintf("creating the %s record set %s in zone %s", recordType, name, zoneID), err)
	}
	return recordSetInfo(rs), nil
}

// RecordSetChange is a PUT of a record set: nil fields are left as they are.
type RecordSetChange struct {
	Records []string
	// TTL 0 gives the record set back to the zone's TTL (Designate's null).
	TTL         *int
	Description *string
}

func (c RecordSetChange) ToRecordSetUpdateMap() (map[string]any, error) {
	m := map[string]any{}
	if c.Records != nil {
		m["records"] = c.Records
	}
	if c.TTL != nil {
		if *c.TTL > 0 {
			m["ttl"] = *c.TTL
		} else {
			m["ttl"] = nil
		}
	}
	if c.Description != nil {
		if *c.Description == "" {
			m["description"] = nil
		} else {
			m["description"] = *c.Description
		}
	}
	return m, nil
}

// UpdateRecordSet changes a record set. A PUT is idempotent, so the client may retry it.
func (d *DNS) UpdateRecordSet(ctx context.Context, zoneID, id string, change RecordSetChange) (*RecordSet, error) {
	rs, err := recordsets.Update(ctx, d.Client, zoneID, id, change).Extract()
	if err != nil {
		return nil, apiError("updating record set "+id, err)
	}
	return recordSetInfo(rs), nil
}

// DeleteRecordSet deletes a record set; one already gone is not an error.
func (d *DNS) DeleteRecordSet(ctx context.Context, zoneID, id string) error {
	err := recordsets.Delete(ctx, d.Client, zoneID, id).ExtractErr()
	if err != nil && !IsNotFound(err) {
		return apiError("deleting record set "+id, err)
	}
	return nil
}

// WaitRecordSetActive waits until Designate has published the change: the record set ACTIVE,
// and its zone's serial past serialBefore. It returns the last readings, also on error, so
// that a record set left PENDING is reported as it is.
func (d *DNS) WaitRecordSetActive(ctx context.Context, zoneID, id string, serialBefore int) (*RecordSet, *Zone, error) {
	rs, err := waitFor(ctx, d.Poll, "record set "+id, func(ctx context.Context) (*RecordSet, string, error) {
		rs, err := d.GetRecordSet(ctx, zoneID, id)
		if err != nil {
			return nil, "", err
		}
		return rs, rs.Status, nil
	}, []string{"PENDING"}, []string{"ACTIVE"}, []string{"ERROR"})
	if err != nil {
		if rs != nil && rs.Status == "ERROR" {
			err = fmt.Errorf("%w: Designate could not publish it to its name servers (see designate-worker's log, or ask the cloud's operator)", err)
		}
		return rs, nil, err
	}
	z, err := d.waitSerial(ctx, zoneID, serialBefore, false)
	return rs, z, err
}

// WaitRecordSetGone waits until the record set is gone and its zone ACTIVE with a new serial.
func (d *DNS) WaitRecordSetGone(ctx context.Context, zoneID, id string, serialBefore int) (*Zone, error) {
	if err := waitGone(ctx, d.Poll, "deletion of record set "+id, func(ctx context.Context) (string, error) {
		rs, err := d.GetRecordSet(ctx, zoneID, id)
		if err != nil {
			return "", err
		}
		return rs.Status, nil
	}); err != nil {
		return nil, err
	}
	return d.waitSerial(ctx, zoneID, serialBefore, true)
}

// waitSerial waits for the zone's serial to pass serialBefore (and, when active is set, for
// the zone to be ACTIVE again): the proof the change reached the zone.
func (d *DNS) waitSerial(ctx context.Context, zoneID string, serialBefore int, active bool) (*Zone, error) {
	return waitFor(ctx, d.Poll, "zone "+zoneID, func(ctx context.Context) (*Zone, string, error) {
		z, err := d.GetZone(ctx, zoneID)
		if err != nil {
			return nil, "", err
		}
		switch {
		case z.Status == "ERROR":
			return z, "ERROR", nil
		case z.Serial <= serialBefore, active && z.Status != "ACTIVE":
			return z, "WAITING", nil
		}
		return z, "DONE", nil
	}, nil, []string{"DONE"}, []string{"ERROR"})
}

// IsDuplicate reports Designate's 409 for a record set that exists already.
func IsDuplicate(err error) bool {
	return StatusCode(err) == http.StatusConflict
}
