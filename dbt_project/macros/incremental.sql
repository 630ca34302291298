{# Incremental builds (docs/INCREMENTAL.md).

   kinerja.build_state.prepare_build opens a row in build.runs before dbt runs, with mode 'full'
   or 'incremental'. In a full build every model is computed from the whole store (after
   prepare_build dropped the tables, or by deleting every row of a table that exists). In an
   incremental build the models recompute only the changed contracts of
   intermediate.int_dirty_contracts: every ref() reads only their rows (the `ref` override below)
   and each model's pre-hook `delete_changed()` deletes the rows it is about to insert again.
   Each model also keeps the rows it recomputed in `recomputed.<model>` (the incremental strategy
   `append_recomputed`), and the models and tests after it in the same dbt command read those
   instead of filtering its whole table: a night then reads what it changed, not the history. #}

{# 'incremental' while prepare_build has opened an incremental build, else 'full' (also when dbt
   runs by hand, with no build.runs table: then every model recomputes everything). The mode is
   the environment's KINERJA_BUILD_MODE when kinerja.dbt_build sets it, else build.runs'. #}
{% macro build_mode() -%}
    {%- if not execute -%}{{ return('full') }}{%- endif -%}
    {#- kinerja.dbt_build passes the mode of the row prepare_build opened: without it every ref()
        and every test would query build.runs (two queries each, seconds per build) -#}
    {%- set given = env_var('KINERJA_BUILD_MODE', '') -%}
    {%- if given in ('full', 'incremental') -%}{{ return(given) }}{%- endif -%}
    {%- set found = run_query(
        "select count(*) from information_schema.tables "
        ~ "where table_schema = 'build' and table_name = 'runs'") -%}
    {%- if found.columns[0].values()[0] == 0 -%}{{ return('full') }}{%- endif -%}
    {%- set row = run_query(
        "select mode from build.runs where status = 'running' order by build_id desc limit 1") -%}
    {%- if row.rows | length == 0 -%}{{ return('full') }}{%- endif -%}
    {{ return(row.columns[0].values()[0]) }}
{%- endmacro %}

{# True when this model adds to its existing rows instead of recomputing all of them. #}
{% macro incremental_run() -%}
    {#- unit tests and data tests have no `this` to add to -#}
    {%- if this is none or model.resource_type != 'model' -%}{{ return(false) }}{%- endif -%}
    {{ return(is_incremental() and build_mode() == 'incremental') }}
{%- endmacro %}

{# How a model's rows are keyed for incremental builds (its meta `changed_by`): 'contract'
   (default: recomputed for the changed contracts), 'year' (recomputed for every contract of a
   year with a changed contract) or 'never' (reference data: always built whole). #}
{% macro changed_by(node) -%}
    {{ return((node.config.meta or {}).get('changed_by', 'contract')) }}
{%- endmacro %}

{# A SQL condition that holds for the rows an incremental build recomputes. `literal`: name the
   changed contracts in the SQL (when there are at most 10,000), for a statement that scans a
   whole table: DuckDB filters a scan by a list of constants two to three times faster than by a
   join with int_dirty_contracts (deletes of a 5-year warehouse). #}
{% macro changed_rows_condition(column, by, literal=false) -%}
    {#- by name, not ref(): data tests have no dependency on int_dirty_contracts to declare -#}
    {%- set dirty = graph.nodes['model.kinerja.int_dirty_contracts'].relation_name -%}
    {%- set flag = 'in_changed_year' if by == 'year' else 'in_fold' -%}
    {%- if literal -%}
        {#- quoted by DuckDB, in one string: a Jinja loop over the ids costs more than the query -#}
        {%- set found = run_query(
            "select count(*), string_agg('''' || replace(contract_id, '''', '''''') || '''', ', ' "
            ~ "order by contract_id) from " ~ dirty ~ " where " ~ flag).rows[0] -%}
        {%- if found[0] == 0 -%}{{ return('false') }}{%- endif -%}
        {%- if found[0] <= 10000 -%}{{ return(column ~ ' in (' ~ found[1] ~ ')') }}{%- endif -%}
    {%- endif -%}
    {{ column }} in (select contract_id from {{ dirty }} where {{ flag }})
{%- endmacro %}

{# The pre-hook of every model (dbt_project.yml): before an incremental model inserts its
   recomputed rows, delete their old versions (every row in a full build over an existing
   table). The key column is the model's meta `changed_key` (default contract_id). A model with
   meta `keep_before` ({table, where}) first copies its rows of the changed years (that match
   `where`) to build.<table>: kinerja.build_state.finish_build compares them with the new ones. #}
{% macro delete_changed() -%}
    {%- if is_incremental() and changed_by(model) != 'never' -%}
        {%- if incremental_run() -%}
            {%- set meta = model.config.meta or {} -%}
            {%- set key = meta.get('changed_key', 'contract_id') -%}
            {%- if meta.get('keep_before') -%}
                create or replace table build.{{ meta.keep_before.table }} as
                select * from {{ this }}
                where {{ meta.keep_before.get('where', 'true') }}
                    and {{ changed_years_condition(key) }};
            {% endif -%}
            {%- if changed_by(model) == 'year' %}
            delete from {{ this }} where {{ changed_years_condition(key) }}
            {%- else %}
            delete from {{ this }} where {{ changed_rows_condition(key, changed_by(model), literal=true) }}
            {%- endif -%}
        {%- else -%}
            delete from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# Every ref() of a model goes through here. In an incremental build a ref to a model keyed by
   contract reads only the changed contracts' rows, so no model can forget the filter; models
   with meta `changed_by: year` (cascading compares KKs across a whole year) read, and are read
   with, every contract of a changed year; `changed_by: never` (reference data, the calendar,
   int_dirty_contracts itself) is always read whole. In a full build, at parse time and in unit
   tests this is dbt's own ref. #}
{% macro ref() -%}
    {%- set relation = builtins.ref(*varargs, **kwargs) -%}
    {%- if not execute -%}
        {#- parse time: every incremental model depends on the dirty set, so dbt builds it first -#}
        {%- if model.resource_type == 'model' and model.config.materialized == 'incremental'
               and varargs[-1] != 'int_dirty_contracts' -%}
            {%- do builtins.ref('int_dirty_contracts') -%}
        {%- endif -%}
        {{ return(relation) }}
    {%- endif -%}
    {%- if not incremental_run() -%}{{ return(relation) }}{%- endif -%}
    {%- set target_node = (graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                           | selectattr('name', 'equalto', varargs[-1]) | list) -%}
    {%- if not target_node -%}{{ return(relation) }}{%- endif -%}
    {%- set target_by = changed_by(target_node[0]) -%}
    {%- if target_by == 'never' -%}{{ return(relation) }}{%- endif -%}
    {%- set by = 'year' if 'year' in [target_by, changed_by(model)] else 'contract' -%}
    {%- if by == target_by and recomputed_here(target_node[0]) -%}
        {#- the target ran earlier in this command and recomputed exactly these rows -#}
        {{ return(recomputed_relation(target_node[0])) }}
    {%- endif -%}
    {#- a year-scoped model reads every contract of the changed years, more than a contract-keyed
        target recomputed; a target outside this command (a DAG task, --select) has no fresh
        recomputed rows: read them from its table -#}
    {%- if by == 'year' and 'year' in (adapter.get_columns_in_relation(relation)
                                       | map(attribute='name') | list) -%}
        {{ return('(select * from ' ~ relation ~ ' where ' ~ changed_years_condition() ~ ')') }}
    {%- endif -%}
    {{ return('(select * from ' ~ relation ~ ' where ' ~ changed_rows_condition('contract_id', by) ~ ')') }}
{%- endmacro %}

{# The rows of the changed years, for a table with a `year` column (the contract's year): a
   filter on an integer column by constants, where the condition on the contracts of those years
   is a join of every row with tens of thousands of ids (seconds over a five-year table). When a
   KK has events of two years, `year` could name another year than int_dirty_contracts counts it
   in: then the condition on `contract_column`. #}
{% macro changed_years_condition(contract_column='contract_id') -%}
    {%- set dirty = graph.nodes['model.kinerja.int_dirty_contracts'].relation_name -%}
    {%- set found = run_query("select coalesce(bool_and(one_year_per_contract), true), "
                              ~ "string_agg(distinct year::varchar, ', ') from " ~ dirty
                              ~ " where in_changed_year").rows[0] -%}
    {%- if not found[0] -%}{{ return(changed_rows_condition(contract_column, 'year')) }}{%- endif -%}
    {{ return('year in (' ~ found[1] ~ ')' if found[1] else 'false') }}
{%- endmacro %}

{# True when this dbt command built the model's recomputed_relation before its readers (dbt runs
   a model before the models and tests that ref it, and skips them when it fails). #}
{% macro recomputed_here(node) -%}
    {{ return(node.config.materialized in ('incremental', 'view') and changed_by(node) != 'never'
              and node.unique_id in selected_resources) }}
{%- endmacro %}

{# The post-hook of the staging views (dbt_project.yml, after the view's transaction: DuckDB writes
   to one database per transaction): in an incremental build, their rows of the changed
   contracts as recomputed_relation(view), computed once for every model that reads them (the
   fold order of stg_contract_events is a window over every event of the store). Without the
   columns of the view's meta `recomputed_exclude`, which no model reads. #}
{% macro keep_recomputed_view() -%}
    {%- if execute and build_mode() == 'incremental' and changed_by(model) != 'never' -%}
        {%- set excluded = (model.config.meta or {}).get('recomputed_exclude', []) -%}
        create or replace table {{ recomputed_relation(model) }} as
        select *{{ ' exclude (' ~ excluded | join(', ') ~ ')' if excluded }}
        from {{ this }} where {{ changed_rows_condition('contract_id', 'contract', literal=true) }}
    {%- endif -%}
{%- endmacro %}

{# Where an incremental build keeps the rows a model recomputed: the in-memory database
   `recomputed` that every dbt command attaches (profiles.yml). Those rows are needed only while
   the command runs, so they never go to the warehouse file (no WAL, no checkpoint) and vanish
   with the process; DuckDB spills them to disk beyond the memory limit. #}
{% macro recomputed_relation(node) -%}
    {{ return(api.Relation.create(database='recomputed', schema='main', identifier=node.alias)) }}
{%- endmacro %}

{# The incremental strategy of every model (dbt_project.yml): dbt's `append` (insert the rows
   the model computed into a temporary table), and in an incremental build also keep those rows
   as recomputed_relation(model). After the pre-hook `delete_changed()` they are exactly the
   table's rows of the changed contracts (or years), so a reader can take them instead. #}
{% macro get_incremental_append_recomputed_sql(arg_dict) -%}
    {{ get_insert_into_sql(arg_dict['target_relation'], arg_dict['temp_relation'],
                           arg_dict['dest_columns']) }}
    {%- if incremental_run() and changed_by(model) != 'never' -%}
;
        {#- a DuckDB transaction writes to one database: commit the model's rows first (dbt then
            commits the copy) -#}
        commit;
        begin;
        create or replace table {{ recomputed_relation(model) }} as
        select * from {{ arg_dict['temp_relation'] }}
    {%- endif -%}
{%- endmacro %}

{# Every generic data test reads its model through here (dbt's get_where_subquery). In an
   incremental build a test of a model keyed by contract checks only the recomputed rows (its
   recomputed_relation when the model ran in this command): the others passed when they were
   built, and every unique key of these models contains the contract, so new rows cannot collide
   with old ones. A test of a raw table checks the rows ingested since the last build
   (new_source_rows). The test's own `where` still applies. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- if config.get('where') -%}{%- do clauses.append('(' ~ config.get('where') ~ ')') -%}{%- endif -%}
    {%- if execute and build_mode() == 'incremental' -%}
        {%- set tested = (graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                          | selectattr('name', 'equalto', relation.identifier) | list) -%}
        {%- if tested and changed_by(tested[0]) != 'never' -%}
            {%- if recomputed_here(tested[0]) -%}
                {%- set relation = recomputed_relation(tested[0]) -%}
            {%- else -%}
                {%- do clauses.append(changed_rows_condition(
                    (tested[0].config.meta or {}).get('changed_key', 'contract_id'),
                    changed_by(tested[0]))) -%}
            {%- endif -%}
        {%- elif not tested -%}
            {%- set new_rows = new_source_rows(relation) -%}
            {%- if new_rows -%}{%- do clauses.append(new_rows) -%}{%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ clauses | join(' and ') ~ ')') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}

{# The rows of an append-only raw table (a source with meta `appended_at`, the column ingestion
   stamps) that a test of this incremental build must see: the rows ingested after the previous
   build's watermark, every older row passed the previous build's tests. A uniqueness test also
   needs the older rows that share a key with a new one (a duplicate needs at least one new
   row): every row whose key is a new row's. Empty (test every row) for other relations and when
   the previous build had no watermark. #}
{% macro new_source_rows(relation) -%}
    {%- set appended = (graph.sources.values()
                        | selectattr('schema', 'equalto', relation.schema)
                        | selectattr('identifier', 'equalto', relation.identifier)
                        | map(attribute='meta') | map(attribute='appended_at')
                        | select | list) -%}
    {%- if not appended -%}{{ return('') }}{%- endif -%}
    {%- set watermark = run_query(
        "select prev_watermark from build.runs where status = 'running' "
        ~ "order by build_id desc limit 1").columns[0].values() -%}
    {%- if not watermark or watermark[0] is none -%}{{ return('') }}{%- endif -%}
    {#- a literal, so the scan skips the row groups ingested before it (zone maps) -#}
    {%- set is_new = appended[0] ~ " > timestamp '" ~ watermark[0] ~ "'" -%}
    {%- if model.test_metadata and model.test_metadata.name == 'unique' -%}
        {%- set key = model.column_name -%}
        {{ return(key ~ ' in (select ' ~ key ~ ' from ' ~ relation ~ ' where ' ~ is_new ~ ')') }}
    {%- endif -%}
    {{ return(is_new) }}
{%- endmacro %}
