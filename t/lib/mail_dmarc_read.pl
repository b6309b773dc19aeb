#!/usr/bin/perl
# mail_dmarc_read.pl -- read report e-mails with Mail::DMARC (Debian's
# libmail-dmarc-perl), an independent reader, for t/e2e/rua-send.t.
#
#	perl mail_dmarc_read.pl FILE.eml...
#
# For each message, what Mail::DMARC::Report::Receive->from_file made of
# it (MIME, gunzip, XML): one line
#	report ID org=ORG domain=DOMAIN begin=B end=E records=N messages=M
# and a line per record
#	record IP COUNT DISPOSITION DKIM SPF HEADER_FROM
# Nothing is stored: the store's save_aggregate is replaced by this print.
use strict;
use warnings;

use Mail::DMARC::Report;
use Mail::DMARC::Report::Receive;

{
	no warnings 'redefine';
	*Mail::DMARC::Report::save_aggregate = sub {
		my $agg = shift->aggregate;
		my $meta = $agg->metadata;
		my ($n, $m) = (0, 0);
		my @lines;
		for my $r (@{ $agg->record }) {
			$n++;
			$m += $r->row->count;
			push @lines, sprintf("record %s %s %s %s %s %s\n",
			    $r->row->source_ip, $r->row->count,
			    $r->row->policy_evaluated->disposition,
			    $r->row->policy_evaluated->dkim,
			    $r->row->policy_evaluated->spf,
			    $r->identifiers->header_from);
		}
		printf("report %s org=%s domain=%s begin=%s end=%s records=%d "
		    . "messages=%d\n", $meta->report_id, $meta->org_name,
		    $agg->policy_published->domain, $meta->begin, $meta->end,
		    $n, $m);
		print @lines;
		return 1;
	};
}

for my $file (@ARGV) {
	my $r = Mail::DMARC::Report::Receive->new;
	my $type = $r->from_file($file);
	print "type " . ($type // "none") . "\n";
}
