package trigger

import (
	"errors"
	"fmt"
	"strings"

	"github.com/robfig/cron/v3"
)

// Annotations read from a function (OpenFaaS connector conventions).
const (
	AnnotationTopic    = "topic"
	AnnotationSchedule = "schedule"
	// CronTopic is the topic that means "run on the schedule".
	CronTopic = "cron-function"
)

var (
	standardParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	secondsParser  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// ParseSchedule parses a cron schedule: five fields (the classic crontab,
// what OpenFaaS's cron-connector takes), six fields (a leading seconds
// field), or a descriptor such as "@hourly" or "@every 30s".
func ParseSchedule(s string) (cron.Schedule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("empty schedule")
	}
	p := standardParser
	if !strings.HasPrefix(s, "@") && len(strings.Fields(s)) == 6 {
		p = secondsParser
	}
	sched, err := p.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", s, err)
	}
	return sched, nil
}

// Topics splits a topic annotation into the cron flag and NATS subjects.
func Topics(topic string) (cronTopic bool, subjects []string) {
	for _, t := range strings.Split(topic, ",") {
		t = strings.TrimSpace(t)
		switch {
		case t == "":
		case t == CronTopic:
			cronTopic = true
		default:
			subjects = append(subjects, t)
		}
	}
	return cronTopic, subjects
}

// ValidateSubject refuses subjects that are malformed or would listen to
// Sigil's or JetStream's own traffic (a trigger there could loop).
func ValidateSubject(s string) error {
	if s == "" || strings.ContainsAny(s, " \t\r\n") {
		return fmt.Errorf("subject %q: empty or contains white space", s)
	}
	toks := strings.Split(s, ".")
	for i, t := range toks {
		if t == "" {
			return fmt.Errorf("subject %q: empty token", s)
		}
		if t == ">" && i != len(toks)-1 {
			return fmt.Errorf("subject %q: '>' must be the last token", s)
		}
		if strings.ContainsAny(t, "*>") && len(t) > 1 {
			return fmt.Errorf("subject %q: wildcards must be whole tokens", s)
		}
	}
	switch first := toks[0]; {
	case strings.HasPrefix(first, "$"), first == "_INBOX", first == "sigil", first == "*", first == ">":
		return fmt.Errorf("subject %q: reserved (Sigil, JetStream and inbox subjects cannot trigger functions)", s)
	}
	return nil
}
