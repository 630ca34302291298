{# Incremental builds (docs/INCREMENTAL.md).

   kinerja.build_state.prepare_build opens a row in build.runs before dbt runs, with mode 'full'
   or 'incremental'. In a full build every model is computed from the whole store (after
   prepare_build dropped the tables, or by deleting every row of a table that exists). In an
   incremental build the models recompute only the changed contracts of
   intermediate.int_dirty_contracts: every ref() reads only their rows (the `ref` override below)
   and each model's pre-hook `delete_changed()` deletes the rows it is about to insert again. #}

{# 'incremental' while prepare_build has opened an incremental build, else 'full' (also when dbt
   runs by hand, with no build.runs table: then every model recomputes everything). #}
{% macro build_mode() -%}
    {%- if not execute -%}{{ return('full') }}{%- endif -%}
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

{# A SQL condition that holds for the rows an incremental build recomputes. #}
{% macro changed_rows_condition(column, by) -%}
    {#- by name, not ref(): data tests have no dependency on int_dirty_contracts to declare -#}
    {%- set dirty = graph.nodes['model.kinerja.int_dirty_contracts'].relation_name -%}
    {{ column }} in (select contract_id from {{ dirty }}
                     where {{ 'in_changed_year' if by == 'year' else 'in_fold' }})
{%- endmacro %}

{# The pre-hook of every model (dbt_project.yml): before an incremental model inserts its
   recomputed rows, delete their old versions (every row in a full build over an existing
   table). The key column is the model's meta `changed_key` (default contract_id). #}
{% macro delete_changed() -%}
    {%- if is_incremental() and changed_by(model) != 'never' -%}
        {%- if incremental_run() -%}
            delete from {{ this }} where {{ changed_rows_condition(
                (model.config.meta or {}).get('changed_key', 'contract_id'), changed_by(model)) }}
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
    {{ return('(select * from ' ~ relation ~ ' where ' ~ changed_rows_condition('contract_id', by) ~ ')') }}
{%- endmacro %}

{# Every generic data test reads its model through here (dbt's get_where_subquery). In an
   incremental build a test of a model keyed by contract checks only the recomputed rows: the
   others passed when they were built, and every unique key of these models contains the
   contract, so new rows cannot collide with old ones. The test's own `where` still applies. #}
{% macro default__get_where_subquery(relation) -%}
    {%- set clauses = [] -%}
    {%- if config.get('where') -%}{%- do clauses.append('(' ~ config.get('where') ~ ')') -%}{%- endif -%}
    {%- if execute and build_mode() == 'incremental' -%}
        {%- set tested = (graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
                          | selectattr('name', 'equalto', relation.identifier) | list) -%}
        {%- if tested and changed_by(tested[0]) != 'never' -%}
            {%- do clauses.append(changed_rows_condition(
                (tested[0].config.meta or {}).get('changed_key', 'contract_id'),
                changed_by(tested[0]))) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if clauses -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ clauses | join(' and ') ~ ')') -%}
    {%- endif -%}
    {%- do return(relation) -%}
{%- endmacro %}
