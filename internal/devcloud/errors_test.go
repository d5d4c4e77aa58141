package devcloud

import (
	"errors"

	"github.com/gophercloud/gophercloud/v2"
)

func asUnexpected(err error, out *gophercloud.ErrUnexpectedResponseCode) bool {
	return errors.As(err, out)
}
