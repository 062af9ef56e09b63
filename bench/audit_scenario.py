# What `nova-manage placement audit` reads, at scale: one dry run.
#
# Run INSIDE a Nova tree with the release venv's python (as
# placement_scenario.py is):
#
#     cd TREE && python /work/main/bench/audit_scenario.py N P H D
#
# A cloud of P compute nodes (fake driver) and N servers booted on them
# through the API, plus history written straight to the cell database:
# H finished (confirmed) migrations of those servers, and D deleted servers
# (created and destroyed, with their instance mappings, as deleted servers
# stay until they are archived). Then one `placement audit` without
# --delete, counting the placement requests of its report client (by
# method and path, UUIDs replaced), the SQL statements it sends, and its
# wall time. Prints one JSON object.

from __future__ import print_function

import os
import sys

sys.path.insert(0, os.getcwd())

try:
    import nova.monkey_patch  # noqa
except ImportError:
    import nova.tests.functional  # noqa
else:
    if hasattr(nova.monkey_patch, 'patch'):
        import nova.tests.functional  # noqa

import collections  # noqa: E402
import io  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402

import fixtures  # noqa: E402
import greenlet  # noqa: E402
from oslo_utils import uuidutils  # noqa: E402
import sqlalchemy  # noqa: E402

import scenario_run  # noqa: E402  (beside this script)
from nova.cmd import manage  # noqa: E402
from nova import context  # noqa: E402
from nova import objects  # noqa: E402
from nova.tests.functional import integrated_helpers  # noqa: E402

# Queens and Pike keep it with the server tests.
try:
    BASE = integrated_helpers.ProviderUsageBaseTestCase
except AttributeError:
    from nova.tests.functional import test_servers  # noqa: E402
    BASE = test_servers.ProviderUsageBaseTestCase

UUID = re.compile(
    r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', re.I)
REPORT_CLIENT = 'nova.scheduler.client.report.SchedulerReportClient'
# Servers a create request asks for (min_count): fewer requests to boot N.
BATCH = 25
# The fake image service's first image (older trees' helpers want it).
IMAGE = '155d900f-4e14-4e4c-a73d-069cbf4541e6'
RESULT = {}


class AuditScaleBench(BASE):

    # Its nodes are large enough for hundreds of small servers.
    compute_driver = 'fake.FakeDriver'

    def __init__(self, sizes):
        super(AuditScaleBench, self).__init__('test_audit_dry_run')
        self.sizes = sizes

    def setUp(self):
        super(AuditScaleBench, self).setUp()
        self.flags(instances=-1, cores=-1, ram=-1, group='quota')
        self.counting = False
        self.requests = collections.Counter()
        self.statements = 0
        # Placement runs in this process, inside the report client's calls
        # (and in Nova's API database before Rocky): its statements are
        # those sent while a call is in progress.
        self.in_placement = 0
        self.auditing = None
        for method in ('get', 'put', 'post', 'delete'):
            self.stub_out('%s.%s' % (REPORT_CLIENT, method),
                          self._counted(method.upper()))
        sqlalchemy.event.listen(sqlalchemy.engine.Engine,
                                'before_cursor_execute', self._statement)
        self.addCleanup(sqlalchemy.event.remove, sqlalchemy.engine.Engine,
                        'before_cursor_execute', self._statement)
        # The audit prints str: bytes on Python 2.
        self.useFixture(fixtures.MonkeyPatch(
            'sys.stdout', io.StringIO() if str is not bytes else io.BytesIO()))

    def _counted(self, method):
        from nova.scheduler.client import report
        real = getattr(report.SchedulerReportClient, method.lower())

        def counted(client, url, *args, **kwargs):
            if self.counting:
                self.requests['%s %s' % (method, UUID.sub('{uuid}', url))] += 1
            self.in_placement += 1
            try:
                return real(client, url, *args, **kwargs)
            finally:
                self.in_placement -= 1
        return counted

    def _statement(self, conn, *args, **kwargs):
        # The audit's own: not placement's, nor those of the services'
        # heartbeats and periodic tasks, which run beside it.
        if (self.counting and not self.in_placement and
                greenlet.getcurrent() is self.auditing):
            self.statements += 1

    def _boot(self, count):
        flavor = self.api.get_flavors()[0]
        booted = 0
        while booted < count:
            batch = min(BATCH, count - booted)
            if hasattr(self, '_build_server'):
                server = self._build_server(flavor_id=flavor['id'],
                                            networks='none')
            else:  # releases before Victoria
                server = self._build_minimal_create_server_request(
                    self.api, 'bench', flavor_id=flavor['id'],
                    image_uuid=IMAGE, networks='none')
            server['min_count'] = server['max_count'] = batch
            self.api.post_server({'server': server})
            booted += batch
        ctxt = context.get_admin_context()
        deadline = time.time() + 1500
        while True:
            instances = objects.InstanceList.get_all(ctxt)
            failed = [i.uuid for i in instances if i.vm_state == 'error']
            if failed:
                raise AssertionError('%d servers failed to build' % len(
                    failed))
            if len(instances) == count and all(
                    i.vm_state == 'active' and i.task_state is None
                    for i in instances):
                return instances
            if time.time() > deadline:
                raise AssertionError('servers not active after 1500 s')
            time.sleep(1)

    def _history(self, instances, migrations, deleted):
        ctxt = context.get_admin_context()
        cell = objects.CellMapping.get_by_uuid(
            ctxt, objects.InstanceMapping.get_by_instance_uuid(
                ctxt, instances[0].uuid).cell_mapping.uuid)
        for n in range(migrations):
            instance = instances[n % len(instances)]
            migration = objects.Migration(
                ctxt, instance_uuid=instance.uuid,
                source_compute=instance.host, dest_compute=instance.host,
                source_node=instance.node, dest_node=instance.node,
                old_instance_type_id=instance.instance_type_id,
                new_instance_type_id=instance.instance_type_id,
                migration_type='resize', status='confirmed')
            # Fields newer trees have (Pike's migrations have no UUID).
            if 'uuid' in migration.fields:
                migration.uuid = uuidutils.generate_uuid()
            if 'dest_compute_id' in migration.fields:
                migration.dest_compute_id = instance.compute_id
            migration.create()
        for n in range(deleted):
            uuid = uuidutils.generate_uuid()
            instance = objects.Instance(
                ctxt, uuid=uuid, project_id=self.api.project_id,
                user_id='bench', host=instances[0].host,
                node=instances[0].node, vm_state='active')
            if 'compute_id' in instance.fields:
                instance.compute_id = instances[0].compute_id
            instance.create()
            objects.InstanceMapping(
                ctxt, instance_uuid=uuid, cell_mapping=cell,
                project_id=self.api.project_id).create()
            instance.destroy()

    def test_audit_dry_run(self):
        servers, providers, migrations, deleted = self.sizes
        for n in range(providers):
            self._start_compute('host%d' % (n + 1))
        instances = self._boot(servers)
        self._history(instances, migrations, deleted)
        # The computes' periodic tasks would be counted with the audit's
        # statements: the audit needs none of them.
        for compute in self.computes.values():
            compute.stop()

        self.auditing = greenlet.getcurrent()
        self.counting = True
        start = time.time()
        code = manage.PlacementCommands().audit()
        seconds = time.time() - start
        self.counting = False
        RESULT.update({
            'servers': servers, 'providers': providers,
            'migrations': migrations, 'deleted': deleted,
            'return_code': code, 'seconds': round(seconds, 2),
            'requests': dict(self.requests),
            'placement_requests': sum(self.requests.values()),
            'sql_statements': self.statements,
            'nova_file': os.path.abspath(manage.__file__),
        })


def main(argv):
    if len(argv) != 5:
        print('usage: python %s N P H D' % argv[0], file=sys.stderr)
        return 2
    sizes = [int(arg) for arg in argv[1:]]
    return scenario_run.run(AuditScaleBench(sizes), RESULT)


if __name__ == '__main__':
    sys.exit(main(sys.argv))
